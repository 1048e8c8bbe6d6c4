package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.OTHER_NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.report.Harness.Job;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Namespace scoping, readiness and the answer when the Kubernetes API is gone (the last test takes it away). */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReportApiConfiguredIT {
  private static Harness h;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of("NIXEK_WATCH_NAMESPACES", NS, "NIXEK_READY_MAX_AGE_SECONDS", "1"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  @Test
  @Order(1)
  void tokensOfJobsOutsideTheWatchedNamespacesAreUnknown() {
    Job inside = h.createJob(NS, "inside", "build");
    Job outside = h.createJob(OTHER_NS, "outside", "build");
    String before = h.snapshot(outside);

    h.ok(inside, inside.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
    HttpResponse<String> r = h.post(outside.token(), outside.path(0, "started"),
        startedJson("build", "2026-11-25T10:01:00Z"));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(h.snapshot(outside)).isEqualTo(before);
  }

  @Test
  @Order(2)
  void withoutTheKubernetesApiReportsGet503AndReadinessFails() throws Exception {
    Job j = h.createJob(NS, "outage", "build");
    h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied"); // token now cached
    await().atMost(Duration.ofSeconds(5)).until(() -> h.send(h.request("/readyz").GET().build()).statusCode() == 200);

    h.stopKubernetes();

    // output needs only the log store: this replica knows the step runs, so the chunk is stored and acknowledged
    String chunk = chunkJson(0, 0, "kept\n".getBytes(StandardCharsets.UTF_8));
    h.ok(j, j.path(0, "output"), chunk, "applied");
    assertThat(h.logs.state(new dev.nixek.ci.common.logs.StepLog(NS, j.name(), j.uid(), 0)).bytes()).isEqualTo(5);
    // a state change needs the Kubernetes API
    HttpResponse<String> cached = h.post(j.token(), j.path(0, "finished"), finishedJson(0, "2026-11-25T10:02:00Z", 5));
    assertThat(cached.statusCode()).as(cached.body()).isEqualTo(503);
    assertThat(Json.mapper().readValue(cached.body(), ReportError.class).error()).isEqualTo("kubernetes_unavailable");
    // the watch of token records is down too: a miss proves nothing then, so an unknown token is 503 (retry), not 401
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      HttpResponse<String> unknown = h.post(h.unknownToken(), j.path(0, "output"), chunk);
      assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(503);
    });
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(h.send(h.request("/readyz").GET().build()).statusCode()).isEqualTo(503));
    assertThat(h.send(h.request("/healthz").GET().build()).statusCode()).isEqualTo(200);
  }
}
