package dev.nixek.ci.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.protocol.LogPaths;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Reads one step's log from the report API's logs endpoint with the user's Kubernetes bearer token
 * (docs/logs.md#reading-logs). Following, a broken connection is resumed from the last byte received
 * ({@code ?follow=true&offset=N}), so the output has every byte once, in order.
 */
public final class LogClient {
  /** Consecutive failed reconnects before a follower gives up. */
  static final int MAX_RECONNECTS = 8;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final Supplier<String> token;
  private final Duration firstBackoff;

  /** A refusal or failure the user must see: the HTTP status (0: no answer) and the server's message. */
  public static final class LogException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    LogException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** {@code token} is asked for each request: an exec plugin's or OIDC token may be refreshed between reconnects. */
  public LogClient(HttpClient http, Supplier<String> token) {
    this(http, token, Duration.ofMillis(250));
  }

  LogClient(HttpClient http, Supplier<String> token, Duration firstBackoff) {
    this.http = http;
    this.token = token;
    this.firstBackoff = firstBackoff;
  }

  /**
   * Copies step {@code index}'s log, from byte {@code offset}, to {@code out} (flushed as bytes arrive); following,
   * until the step ends. Returns the bytes copied.
   *
   * @param jobUrl the job's logs URL ({@code status.logs.url}, or the server's URL plus {@link LogPaths#job})
   */
  public long read(String jobUrl, int index, long offset, boolean follow, OutputStream out)
      throws IOException, InterruptedException {
    long pos = offset;
    int failures = 0;
    Duration backoff = firstBackoff;
    while (true) {
      try {
        pos = readOnce(jobUrl, index, pos, follow, out);
        return pos - offset;
      } catch (Resumable e) {
        // progress resets the count: only a connection that keeps failing without a byte ends the follow
        failures = e.position > pos ? 1 : failures + 1;
        pos = e.position;
        if (!follow || failures > MAX_RECONNECTS) {
          throw new LogException(0, "the connection to " + jobUrl + " broke after byte " + pos + " ("
              + e.getCause().getMessage() + ")" + (follow ? "; " + MAX_RECONNECTS + " reconnects failed" : ""));
        }
        Thread.sleep(backoff.toMillis());
        backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5)
            : backoff.multipliedBy(2);
      }
    }
  }

  /** A connection that broke after {@code position} bytes. */
  private static final class Resumable extends Exception {
    private static final long serialVersionUID = 1L;
    final long position;

    Resumable(long position, IOException cause) {
      super(cause);
      this.position = position;
    }
  }

  private long readOnce(String jobUrl, int index, long from, boolean follow, OutputStream out)
      throws IOException, InterruptedException, Resumable {
    String url = stripSlash(jobUrl) + "/steps/" + index + "?" + LogPaths.OFFSET + "=" + from
        + (follow ? "&" + LogPaths.FOLLOW + "=true" : "");
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET().header("Accept",
        "application/octet-stream");
    String t = token.get();
    if (t != null) {
      request.header("Authorization", "Bearer " + t);
    }
    HttpResponse<InputStream> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new Resumable(from, e);
    }
    long pos = from;
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200) {
        throw refusal(response.statusCode(), body.readAllBytes());
      }
      byte[] buffer = new byte[64 * 1024];
      int n;
      while (true) {
        try {
          n = body.read(buffer);
        } catch (IOException e) {
          throw new Resumable(pos, e);
        }
        if (n < 0) {
          return pos;
        }
        out.write(buffer, 0, n);
        out.flush();
        pos += n;
      }
    }
  }

  private static LogException refusal(int status, byte[] body) {
    String message;
    try {
      JsonNode n = JSON.readTree(body);
      message = n.path("message").asText(new String(body, StandardCharsets.UTF_8));
    } catch (IOException e) {
      message = new String(body, StandardCharsets.UTF_8);
    }
    if (message.length() > 500) {
      message = message.substring(0, 500) + "...";
    }
    return new LogException(status, "HTTP " + status + ": " + message);
  }

  static String stripSlash(String url) {
    String s = url;
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }
}
