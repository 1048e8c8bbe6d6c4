package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.report.Harness.Job;
import dev.nixek.ci.testing.kube.Promtool;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The report API's {@code /metrics}, on its own port: after a known set of reports the ingest counters, bytes and
 * acknowledgement timings hold exactly those; promtool accepts the text; the agents' port serves no metrics.
 */
class ReportMetricsIT {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");
  private Harness h;

  @BeforeEach
  void start() throws Exception {
    h = new Harness(Map.of("NIXEK_REPORT_METRICS_PORT", "0"));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void knownReportsAreCountedByEndpointCodeAndBytes() throws Exception {
    Job j = h.createJob(NS, "counted", "build", "test");
    long bytes = 0;
    int chunks = 3;
    for (int step = 0; step < 2; step++) {
      String name = step == 0 ? "build" : "test";
      String started = startedJson(name, "2026-11-25T10:01:0" + step + "Z");
      h.ok(j, j.path(step, "started"), started, "applied");
      bytes += started.getBytes(StandardCharsets.UTF_8).length;
      long offset = 0;
      for (int i = 0; i < chunks; i++) {
        byte[] data = ("line " + i + " of " + name + "\n").getBytes(StandardCharsets.UTF_8);
        String chunk = chunkJson(i, offset, data);
        h.ok(j, j.path(step, "output"), chunk, "applied");
        bytes += chunk.getBytes(StandardCharsets.UTF_8).length;
        offset += data.length;
      }
      String finished = finishedJson(0, "2026-11-25T10:02:0" + step + "Z", offset);
      h.ok(j, j.path(step, "finished"), finished, "applied");
      bytes += finished.getBytes(StandardCharsets.UTF_8).length;
    }
    // a replay, and one refused token: counted with their codes
    String replay = startedJson("build", "2026-11-25T10:01:00Z");
    h.ok(j, j.path(0, "started"), replay, "duplicate");
    bytes += replay.getBytes(StandardCharsets.UTF_8).length;
    assertThat(h.post(h.unknownToken(), j.path(1, "started"), replay).statusCode()).isEqualTo(401);
    long expectedBytes = bytes;

    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      Map<String, Double> s = samples(scrape());
      assertThat(s).containsEntry("nixek_report_requests_total{code=\"200\",endpoint=\"started\"}", 3.0)
          .containsEntry("nixek_report_requests_total{code=\"200\",endpoint=\"output\"}", 6.0)
          .containsEntry("nixek_report_requests_total{code=\"200\",endpoint=\"finished\"}", 2.0)
          .containsEntry("nixek_report_requests_total{code=\"401\",endpoint=\"started\"}", 1.0)
          .containsEntry("nixek_report_ack_duration_seconds_count{endpoint=\"output\"}", 6.0)
          .containsEntry("nixek_report_ack_duration_seconds_count{endpoint=\"started\"}", 4.0);
      // the refused request's body was never read: the bytes are the accepted reports' alone
      double body = s.entrySet().stream().filter(e -> e.getKey().startsWith("nixek_report_request_body_bytes_sum{"))
          .mapToDouble(Map.Entry::getValue).sum();
      assertThat(body).isEqualTo((double) expectedBytes);
    });
    String text = scrape();
    assertThat(text).doesNotContain("counted").doesNotContain(j.uid()).doesNotContain(j.token());
    Promtool.locate().checkMetrics(text);

    HttpResponse<String> onAgentsPort = h.send(h.request("/metrics").GET().build());
    assertThat(onAgentsPort.statusCode()).isEqualTo(404);
  }

  @Test
  void noMetricsPortWhenTurnedOff() throws Exception {
    try (Harness off = new Harness(Map.of("NIXEK_REPORT_METRICS_PORT", "-1"))) {
      assertThat(off.api.metricsPort()).isEqualTo(-1);
    }
    assertThat(h.api.metricsPort()).isPositive().isNotEqualTo(h.port);
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = h.http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + h.api.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static Map<String, Double> samples(String text) {
    Map<String, Double> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a sample line: %s", line).isTrue();
      out.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
    }
    return out;
  }
}
