package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the job config from EC2 user-data through IMDSv2 (session token first, then the data). At boot the
 * metadata service may not answer yet, so every failure short of "there is no user-data" is retried with backoff
 * until {@code timeout}. The IMDS session token is a credential too and is never logged.
 */
final class ImdsConfigSource implements ConfigSource {
  private static final Logger LOG = LoggerFactory.getLogger(ImdsConfigSource.class);
  static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
  static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";

  private final URI tokenUri;
  private final URI userDataUri;
  private final Duration timeout;
  private final HttpClient http;

  ImdsConfigSource(URI baseUrl, Duration timeout) {
    String base = baseUrl.toString().replaceAll("/+$", "");
    this.tokenUri = URI.create(base + "/latest/api/token");
    this.userDataUri = URI.create(base + "/latest/user-data");
    this.timeout = timeout;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
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
          HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(tokenUri)
              .timeout(Duration.ofSeconds(5))
              .header(TOKEN_TTL_HEADER, "21600")
              .PUT(HttpRequest.BodyPublishers.noBody())
              .build(), HttpResponse.BodyHandlers.ofInputStream());
          byte[] body = readAtMost(r.body(), 4096);
          if (r.statusCode() == 200 && body.length > 0) {
            sessionToken = new String(body, StandardCharsets.US_ASCII).trim();
            continue;
          }
          problem = "token request answered " + r.statusCode();
        } else {
          HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(userDataUri)
              .timeout(Duration.ofSeconds(5))
              .header(TOKEN_HEADER, sessionToken)
              .GET()
              .build(), HttpResponse.BodyHandlers.ofInputStream());
          byte[] body = readAtMost(r.body(), MAX_CONFIG_BYTES + 1);
          switch (r.statusCode()) {
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
            default -> problem = "user-data request answered " + r.statusCode();
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
