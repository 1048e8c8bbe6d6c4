package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Posts one report as the agent would, for tests that play the agent by hand: the same bytes again on 503 and 429
 * (the report API's token watch may be reconnecting, or a limit was reached), and on 401 for the first seconds (the
 * record of a token handed out a moment ago may not have reached the report API's watch yet; the agent allows 10 s).
 * Anything but a final 200 fails the test with the report API's answer.
 */
final class AgentPost {
  private static final long GIVE_UP_NANOS = 10_000_000_000L;

  private AgentPost() {}

  static void post(HttpClient http, String base, AgentConfig cfg, int step, String what, Object body)
      throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + ReportPaths.step(cfg.namespace(), cfg.name(), step, what)))
        .header("Authorization", "Bearer " + cfg.token())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(body)))
        .build();
    long started = System.nanoTime();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    while ((r.statusCode() == 503 || r.statusCode() == 429 || r.statusCode() == 401)
        && System.nanoTime() - started < GIVE_UP_NANOS) {
      Thread.sleep(200);
      r = http.send(req, HttpResponse.BodyHandlers.ofString());
    }
    assertThat(r.statusCode()).as("%s %s of %s: %s", what, step, cfg.name(), r.body()).isEqualTo(200);
  }
}
