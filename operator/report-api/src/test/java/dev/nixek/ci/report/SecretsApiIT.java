package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.secrets.SealedJobSecrets;
import dev.nixek.ci.protocol.CheckoutCredential;
import dev.nixek.ci.protocol.JobSecrets;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET .../secrets} on the fabric8 mock API server: the values the operator sealed into the job's status, opened
 * with the seal key Secret read by name; the checkout token only while step 0 (the checkout step) has not ended.
 */
class SecretsApiIT {
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final String TOKEN = "forge-token-" + java.util.UUID.randomUUID();
  private static final String DEPLOY = "deploy-value-" + java.util.UUID.randomUUID();
  private static Harness h;
  private static Sealer sealer;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of());
    // as the operator makes it: the report API reads it by its default name in its default namespace
    sealer = new Sealer(SealKeyStore.loadOrCreate(h.client, "default", SealKeyStore.DEFAULT_SECRET));
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  /** A job of a repository as the operator launched it: checkout (step 0), then the job's own step. */
  private static Job sealedJob() {
    Job j = h.createJob(NS, "secrets-" + NAMES.incrementAndGet(), "checkout", "build");
    NixekJob job = h.job(j);
    Map<String, byte[]> values = new LinkedHashMap<>();
    values.put(CheckoutCredential.SECRET_REF, TOKEN.getBytes(StandardCharsets.UTF_8));
    values.put("deploy/token", DEPLOY.getBytes(StandardCharsets.UTF_8));
    job.getStatus().sealedSecrets = SealedJobSecrets.seal(sealer, values,
        SealedJobSecrets.context(NS, j.name(), j.uid(), 1));
    h.client.resource(job).updateStatus();
    return j;
  }

  private static HttpResponse<String> fetch(Job j) {
    return h.send(h.request(ReportPaths.secrets(j.namespace(), j.name()))
        .header("Authorization", "Bearer " + j.token()).GET().build());
  }

  private static Map<String, String> values(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Map<String, String> text = new LinkedHashMap<>();
    Json.mapper().readValue(r.body(), JobSecrets.class).decoded()
        .forEach((k, v) -> text.put(k, new String(v, StandardCharsets.UTF_8)));
    return text;
  }

  @Test
  void theCheckoutTokenIsServedUntilTheCheckoutStepEndsAndNeverAfter() throws Exception {
    Job j = sealedJob();
    assertThat(values(fetch(j))).as("before step 0 started")
        .containsExactly(Map.entry(CheckoutCredential.SECRET_REF, TOKEN), Map.entry("deploy/token", DEPLOY));

    h.ok(j, j.path(0, "started"), Harness.startedJson("checkout", "2026-11-25T10:01:00Z"), "applied");
    assertThat(values(fetch(j))).as("while the checkout runs").containsKey(CheckoutCredential.SECRET_REF);

    h.ok(j, j.path(0, "finished"), Harness.finishedJson(0, "2026-11-25T10:01:30Z", 0), "applied");
    assertThat(values(fetch(j))).as("after the checkout step ended")
        .containsExactly(Map.entry("deploy/token", DEPLOY));
    h.ok(j, j.path(1, "started"), Harness.startedJson("build", "2026-11-25T10:02:00Z"), "applied");
    HttpResponse<String> during = fetch(j);
    assertThat(values(during)).as("while a later step runs").containsExactly(Map.entry("deploy/token", DEPLOY));
    assertThat(during.body()).doesNotContain(java.util.Base64.getEncoder().encodeToString(
        TOKEN.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aFailedCheckoutEndsTheTokenToo() throws Exception {
    Job j = sealedJob();
    h.runStep(j, 0, "checkout", List.of("fatal: could not read".getBytes(StandardCharsets.UTF_8)), 128);
    assertThat(values(fetch(j))).containsExactly(Map.entry("deploy/token", DEPLOY));
  }

  @Test
  void theStatusRuleLooksAtStepZeroAndTheStepsAfterIt() {
    var status = new dev.nixek.ci.api.v1alpha1.NixekJobStatus();
    assertThat(SecretsHandler.checkoutEnded(status)).as("no steps reported").isFalse();
    status.steps = List.of(step(null), step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Pending));
    assertThat(SecretsHandler.checkoutEnded(status)).as("nothing started").isFalse();
    status.steps = List.of(step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Running),
        step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Pending));
    assertThat(SecretsHandler.checkoutEnded(status)).as("checkout running").isFalse();
    for (var ended : List.of(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Succeeded,
        dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Failed, dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Skipped)) {
      status.steps = List.of(step(ended), step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Pending));
      assertThat(SecretsHandler.checkoutEnded(status)).as(ended.toString()).isTrue();
    }
    // a later step's start without step 0's end (reports out of order): ended all the same
    status.steps = List.of(step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Running),
        step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State.Running));
    assertThat(SecretsHandler.checkoutEnded(status)).isTrue();
  }

  private static dev.nixek.ci.api.v1alpha1.NixekStepStatus step(dev.nixek.ci.api.v1alpha1.NixekStepStatus.State s) {
    var st = new dev.nixek.ci.api.v1alpha1.NixekStepStatus();
    st.state = s;
    return st;
  }

  @Test
  void theValuesNeverReachTheReportApisLog() throws Exception {
    int before = CapturingAppender.lines().size();
    Job j = sealedJob();
    values(fetch(j));
    h.runStep(j, 0, "checkout", List.of(), 0);
    values(fetch(j));
    String log = String.join("\n", CapturingAppender.lines().subList(before, CapturingAppender.lines().size()));
    assertThat(log).contains("served 2 secret value(s) to the agent of " + NS + "/" + j.name())
        .contains("served 1 secret value(s) to the agent of " + NS + "/" + j.name())
        .contains("the checkout step of " + NS + "/" + j.name() + " has ended")
        .doesNotContain(TOKEN).doesNotContain(DEPLOY);
    for (String v : List.of(TOKEN, DEPLOY)) {
      assertThat(log).doesNotContain(java.util.Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)));
    }
  }
}
