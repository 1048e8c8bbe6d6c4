package dev.nixek.ci.operator;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.Reports;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.kube.Promtool;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's {@code /metrics} as {@link Main#start} serves it, after a scripted run of jobs on the fabric8 mock API
 * server with a fake provider: exact counts, Prometheus's own {@code promtool} on the text, and no job in any label.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorMetricsMockIT {
  static KubernetesClient client;

  private static final String NS = "ci";
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");
  private final FakeMachineProvider provider = new FakeMachineProvider();
  private final HttpClient http = HttpClient.newHttpClient();
  private Main.Running operator;
  private Reports reports;

  @BeforeEach
  void start() throws Exception {
    TestJobs.createCrds(client);
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("NIXEK_USE_SSA", "false", "NIXEK_POLL_SECONDS", "1",
        "NIXEK_OPERATOR_NAMESPACE", NS, "NIXEK_HEALTH_PORT", "0"));
    operator = Main.start(config, client, Seams.production().withProvider(provider).withOnFatal(() -> { }));
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    operator.close();
    TestJobs.deleteAll(client);
  }

  @Test
  void twoSucceededOneFailedOneCancelledAreCountedExactlyAndPromtoolAcceptsTheText() throws Exception {
    for (String name : List.of("ok-1", "ok-2", "fails", "cancelled")) {
      client.resource(job(NS, name, run("build", "true"), run("test", "true"))).create();
    }
    for (String name : List.of("ok-1", "ok-2", "fails", "cancelled")) {
      awaitReason(name, ConditionReason.Running);
    }
    for (String name : List.of("ok-1", "ok-2")) {
      reports.step(NS, name, 0, 0);
      reports.step(NS, name, 1, 0);
    }
    reports.step(NS, "fails", 0, 3);
    TestJobs.cancel(client, NS, "cancelled");
    awaitReason("ok-1", ConditionReason.Succeeded);
    awaitReason("ok-2", ConditionReason.Succeeded);
    awaitReason("fails", ConditionReason.StepFailed);
    awaitReason("cancelled", ConditionReason.Cancelled);

    String text = scrape();
    Map<String, Double> samples = samples(text);
    Map<String, Double> finished = new TreeMap<>();
    samples.forEach((series, value) -> {
      if (series.startsWith("nixek_jobs_finished_total{")) {
        finished.put(series, value);
      }
    });
    Map<String, Double> expected = new TreeMap<>();
    for (ConditionReason r : ConditionReason.values()) {
      if (r.appliesTo(ConditionReason.Kind.JOB) && r.status() != ConditionReason.Status.UNKNOWN) {
        expected.put("nixek_jobs_finished_total{reason=\"" + r.name() + "\"}", switch (r) {
          case Succeeded -> 2.0;
          case StepFailed, Cancelled -> 1.0;
          default -> 0.0;
        });
      }
    }
    assertThat(finished).isEqualTo(expected);
    // the gauge of live jobs reads the controller's cache (refreshed at most once a second)
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      Map<String, Double> now = samples(scrape());
      assertThat(now).containsEntry("nixek_jobs{reason=\"Succeeded\"}", 2.0)
          .containsEntry("nixek_jobs{reason=\"StepFailed\"}", 1.0)
          .containsEntry("nixek_jobs{reason=\"Cancelled\"}", 1.0)
          .containsEntry("nixek_jobs{reason=\"Running\"}", 0.0);
    });
    assertThat(samples).containsEntry("nixek_job_launch_latency_seconds_count", 4.0)
        .containsEntry("nixek_job_duration_seconds_count{reason=\"Succeeded\"}", 2.0)
        .containsEntry("nixek_job_duration_seconds_count{reason=\"StepFailed\"}", 1.0)
        // four steps succeeded (two jobs' two), one failed, and the failed job's second was skipped (no times)
        .containsEntry("nixek_step_duration_seconds_count{state=\"Succeeded\"}", 4.0)
        .containsEntry("nixek_step_duration_seconds_count{state=\"Failed\"}", 1.0)
        .containsEntry("nixek_job_queue_wait_seconds_count", 0.0);
    // JOSDK's own reconciliation metrics, by controller
    assertThat(samples.keySet()).anyMatch(s -> s.startsWith("reconciliations_started_total{")
        && s.contains("controller_name=\"nixekjob\""));

    Promtool.locate().checkMetrics(text);
  }

  @Test
  void manyJobsAddNoSeriesAndNoLabelNamesAJob() throws Exception {
    client.resource(job(NS, "first", run("build", "true"))).create();
    awaitReason("first", ConditionReason.Running);
    reports.step(NS, "first", 0, 0);
    awaitReason("first", ConditionReason.Succeeded);
    Set<String> before = nixekSeries(scrape());

    List<String> names = new ArrayList<>();
    List<String> uids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String name = "many-" + i;
      names.add(name);
      NixekJob j = job(NS, name);
      // no steps: invalid, ended at once (InvalidSpec) without a machine
      uids.add(client.resource(j).create().getMetadata().getUid());
    }
    for (String name : names) {
      awaitReason(name, ConditionReason.InvalidSpec);
    }
    String text = scrape();
    assertThat(nixekSeries(text)).isEqualTo(before);
    assertThat(samples(text)).containsEntry("nixek_jobs_finished_total{reason=\"InvalidSpec\"}", 40.0);
    for (String series : samples(text).keySet()) {
      for (int i = 0; i < names.size(); i++) {
        assertThat(series).doesNotContain("\"" + names.get(i) + "\"").doesNotContain(uids.get(i));
      }
      assertThat(series).doesNotContain("\"first\"").doesNotContain("namespace=\"" + NS + "\"");
    }
    Promtool.locate().checkMetrics(text);
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + operator.healthPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    return r.body();
  }

  /** Every sample, "name{labels}" to value. */
  static Map<String, Double> samples(String text) {
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

  private static Set<String> nixekSeries(String text) {
    Set<String> out = new TreeSet<>();
    samples(text).keySet().stream().filter(s -> s.startsWith("nixek_")).forEach(out::add);
    return out;
  }

  private void awaitReason(String name, ConditionReason reason) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      NixekJob j = client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
      assertThat(j.getStatus()).as("status of %s", name).isNotNull();
      assertThat(Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED))
          .hasValueSatisfying(c -> assertThat(c.getReason()).as(name).isEqualTo(reason.name()));
    });
  }
}
