package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the job config from EC2 user-data through IMDSv2 (session token first, then the data). At boot the
 * metadata service may not answer yet, so every failure short of "there is no user-data" is retried with backoff
 * until {@code timeout}. The IMDS session token is a credential too and is never logged.
 *
 * <p>Plain HTTP to the link-local service, with the JDK's {@link HttpURLConnection}, never through a proxy: this read
 * is on the way to the first step, and the JDK's {@code java.net.http} client costs about three times as much for the
 * first request (its TLS setup, done even for http; measured in bench/agent-start's notes). The reports' client is
 * built later, beside the first step ({@link AgentHttp}).
 */
final class ImdsConfigSource implements ConfigSource {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsConfigSource.class);
  static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";

  private final URI tokenUri;
  private final URI userDataUri;
  private final Duration timeout;

  ImdsConfigSource(URI baseUrl, Duration timeout) {
    String base = baseUrl.toString().replaceAll("/+$", "");
    this.tokenUri = URI.create(base + "/latest/api/token");
    this.userDataUri = URI.create(base + "/latest/user-data");
    this.timeout = timeout;
  }

  /** What the metadata service answered: the status and at most {@code limit} bytes of the body. */
  private record Answer(int status, byte[] body) {}

  private static Answer exchange(URI uri, String method, String header, String value, int limit) throws IOException {
    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
    try {
      c.setConnectTimeout(2000);
      c.setReadTimeout(5000);
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      c.setRequestMethod(method);
      c.setRequestProperty(header, value);
      if (method.equals("PUT")) {
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(0);
        c.getOutputStream().close();
      }
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      return new Answer(status, in == null ? new byte[0] : readAtMost(in, limit));
    } finally {
      c.disconnect();
    }
  }

  @Override
  public AgentConfig load() throws UsageException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
    String sessionToken = null;
    for (int attempt = 1; ; attempt++) {
      String problem;
      try {
        if (sessionToken == null) {
          Answer r = exchange(tokenUri, "PUT", TOKEN_TTL_HEADER, "21600", 4096);
          byte[] body = r.body();
          if (r.status() == 200 && body.length > 0) {
            sessionToken = new String(body, StandardCharsets.US_ASCII).trim();
            continue;
          }
          problem = "token request answered " + r.status();
        } else {
          Answer r = exchange(userDataUri, "GET", TOKEN_HEADER, sessionToken, MAX_CONFIG_BYTES + 1);
          byte[] body = r.body();
          switch (r.status()) {
            case 200 -> {
              if (body.length > MAX_CONFIG_BYTES) {
                throw new UsageException("user-data is larger than " + MAX_CONFIG_BYTES + " bytes");
              }
              LOG.info("read the job config from instance user-data (attempt {})", attempt);
              return ConfigParser.parse(body);
            }
            case 404 -> throw new UsageException("this instance has no user-data (IMDS answered 404)");
            case 401 -> {
              // the session token expired or the service restarted: get a new one
              sessionToken = null;
              problem = "user-data request answered 401";
            }
            default -> problem = "user-data request answered " + r.status();
          }
        }
      } catch (IOException e) {
        problem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      Duration delay = backoff.next();
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new UsageException("the metadata service at " + tokenUri.resolve("/") + " did not give the config within "
            + timeout.toSeconds() + " s (last: " + problem + ")");
      }
      if (attempt == 1 || attempt % 10 == 0) {
        LOG.warn("metadata service not ready (attempt {}: {}); retrying", attempt, problem);
      } else {
        LOG.debug("metadata service not ready (attempt {}: {})", attempt, problem);
      }
      Thread.sleep(Math.max(1, Math.min(delay.toMillis(), left / 1_000_000)));
    }
  }

  private static byte[] readAtMost(InputStream in, int limit) throws IOException {
    try (in) {
      return in.readNBytes(limit);
    }
  }
}
