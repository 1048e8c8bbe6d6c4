package dev.nixek.ci.builder;

import dev.nixek.ci.protocol.TokenGrace;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts an evaluation result to {@code <report URL>/v1/jobs/<ns>/<name>/evaluation} with the evaluation token.
 * Network errors, 5xx and 429 are retried with backoff until the report timeout (the report API may be restarting);
 * a 401 is retried for {@link TokenGrace#UNKNOWN_TOKEN} (the report API may not know the token yet); any other answer is
 * final: 200 is recorded (applied or duplicate), a 4xx is the report API's refusal, reported with
 * its message. The token is never logged.
 */
class ReportPoster {
  private static final Logger LOG = LoggerFactory.getLogger(ReportPoster.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  /** What the report API answered to an accepted result: {@code applied} or {@code duplicate}. */
  record Outcome(String result) {}

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  Outcome post(EvaluateOptions options, String token, byte[] body) throws BuilderException, InterruptedException {
    String base = options.reportUrl().toString().replaceAll("/+$", "");
    URI uri = URI.create(base + "/v1/jobs/" + options.namespace() + "/" + options.jobName() + "/evaluation");
    Instant started = Instant.now();
    Instant deadline = started.plus(options.reportTimeout());
    Instant graceEnds = started.plus(TokenGrace.UNKNOWN_TOKEN);
    Duration backoff = FIRST_BACKOFF;
    String last = null;
    for (int attempt = 1; ; attempt++) {
      HttpRequest request = HttpRequest.newBuilder(uri)
          .timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + token)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
      try {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          String result = field(r.body(), "result");
          LOG.info("evaluation posted to {}: {}", uri, result);
          return new Outcome(result == null ? "applied" : result);
        }
        if (r.statusCode() == 413) {
          throw BuilderException.build("the evaluation result is " + body.length + " bytes, more than the report API "
              + "accepts (" + field(r.body(), "message") + "; NIXEK_REPORT_EVALUATION_LIMIT_BYTES)");
        }
        boolean tokenNotKnownYet = r.statusCode() == 401 && Instant.now().plus(backoff).isBefore(graceEnds)
            && Instant.now().plus(backoff).isBefore(deadline);
        if (r.statusCode() < 500 && r.statusCode() != 429 && !tokenNotKnownYet) {
          String message = field(r.body(), "message");
          throw BuilderException.build("the report API refused the evaluation (" + r.statusCode() + "): "
              + (message == null ? r.body() : message));
        }
        last = "HTTP " + r.statusCode() + " " + field(r.body(), "message");
      } catch (IOException e) {
        last = e.toString();
      }
      if (Instant.now().plus(backoff).isAfter(deadline)) {
        throw BuilderException.upload("cannot post the evaluation to " + uri + " after " + attempt + " attempts: "
            + last, null);
      }
      LOG.warn("posting the evaluation failed ({}), retrying in {} ms", last, backoff.toMillis());
      Thread.sleep(backoff.toMillis());
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  private static String field(String body, String name) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.hasNonNull(name) ? n.get(name).asText() : null;
    } catch (IOException e) {
      return null;
    }
  }
}
