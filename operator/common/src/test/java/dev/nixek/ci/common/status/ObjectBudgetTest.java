package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.secrets.SealedJobSecrets;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ObjectBudgetTest {
  /** The longest timestamp Instant.parse (the report API's check) accepts: 10-digit year, nanos, an offset. */
  private static final String LONGEST_TIME = "+1000000000-12-31T00:00:00.999999999+18:00:00";

  @Test
  void theWorstStepStatusFitsItsAllowance() {
    Instant.parse(LONGEST_TIME); // the report API would accept it
    String name = "<".repeat(NixekJobStep.NAME_MAX);
    assertThat(StepNames.problem(name)).isEmpty();
    NixekStepStatus s = new NixekStepStatus();
    s.name = name;
    s.state = State.Succeeded;
    s.exitCode = Integer.MIN_VALUE;
    s.timedOut = true;
    s.startTime = LONGEST_TIME;
    s.finishTime = LONGEST_TIME;
    s.outputTail = "";
    s.outputBytes = Long.MAX_VALUE;
    s.outputChunks = Long.MAX_VALUE;
    s.outputCutAtBytes = Long.MAX_VALUE;
    s.artifactsNotListed = Long.MAX_VALUE;
    String json = Serialization.asJson(s);
    // as the API server stores it: Go escapes <, > and & as six-byte \\u003c
    long stored = json.length() + 5L * json.chars().filter(c -> c == '<' || c == '>' || c == '&').count() + 1;
    assertThat(stored).isLessThanOrEqualTo(ObjectBudget.STEP_STATUS_MAX_BYTES);
  }

  @Test
  void tailsAreBoundedByTheBudgetOrTheFloorPerStep() {
    assertThat(ObjectBudget.worstTails(4096, 131072)).isEqualTo(256L * 1001);
    assertThat(ObjectBudget.worstTails(65536, 1024 * 1024)).isEqualTo(1024 * 1024);
    assertThat(ObjectBudget.worstTails(100, 1)).isEqualTo(100L * 1001);
  }

  @Test
  void aJobAtTheStepLimitWithASourceHasItsCheckoutStepCounted() {
    assertThat(ObjectBudget.MAX_STORED_STEPS).isEqualTo(StepRules.MAX_STEPS + 1);
    // 1,000 steps' fields and floor tails, the reserve and the sealed-secret and artifact shares leave 236,992 bytes
    // for the evaluation; the checkout step's 1,000 + 256 bytes leave 235,736: 236,000 fits only if the checkout is
    // forgotten
    long shares = ObjectBudget.SEALED_SECRETS_MAX_BYTES + ObjectBudget.ARTIFACT_STATUS_MAX_BYTES;
    assertThat(ObjectBudget.worstObject(236_000, 4096, 131072)).isEqualTo(236_000L + 1001 * 256 + 1001 * 1000
        + 16 * 1024 + shares).isGreaterThan(ObjectBudget.ETCD_OBJECT_LIMIT);
    assertThat(ObjectBudget.worstObject(235_736, 4096, 131072)).isEqualTo(ObjectBudget.ETCD_OBJECT_LIMIT);
  }

  @Test
  void theDefaultsFitUnderEtcdsLimit() {
    assertThat(ObjectBudget.worstObject(229376, 4096, 131072)).isLessThanOrEqualTo(ObjectBudget.ETCD_OBJECT_LIMIT);
    // the evaluation limit's earlier default of 256 KiB leaves no room for sealed secrets and artifact entries
    assertThat(ObjectBudget.worstObject(262144, 4096, 131072)).isGreaterThan(ObjectBudget.ETCD_OBJECT_LIMIT);
    assertThat(ObjectBudget.worstObject(4 * 1024 * 1024, 4096, 131072)).isGreaterThan(ObjectBudget.ETCD_OBJECT_LIMIT);
  }

  @Test
  void sealedSecretsAtTheValueLimitFitTheirAllowance() {
    // NIXEK_JOB_SECRETS_MAX_BYTES at its largest (16 KiB) in one value under the longest secret/key, and a forge
    // token as long as the longest GitHub issues, beside it
    String sealed = sealedAtTheLimit();
    assertThat(ObjectBudget.storedBytes(sealed)).isEqualTo(sealed.length()).isLessThanOrEqualTo(
        ObjectBudget.SEALED_SECRETS_MAX_BYTES);
  }

  /**
   * A job at every limit the budget counts: the evaluation result at the default limit, 1,000 steps with their worst
   * fields and a tail each as the default tail budget allows for that many, the sealed secrets at the value limit,
   * artifact entries of the longest paths and errors up to their byte budget: stored as the API server stores it,
   * it fits under etcd's limit, and the budget's sum is not below what it measures.
   */
  @Test
  void aJobAtEveryLimitFitsUnderEtcdsLimit() {
    int evaluationLimit = 229376;
    int steps = StepRules.MAX_STEPS;
    NixekJob job = new NixekJob();
    job.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("j".repeat(253))
        .withNamespace("n".repeat(63)).withUid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        .addToLabels("ci.nixek.dev/repository", "r".repeat(63)).addToLabels("ci.nixek.dev/ref", "f".repeat(63))
        .addToLabels("ci.nixek.dev/commit", "c".repeat(40)).withGeneration(1L).withResourceVersion("123456789")
        .withCreationTimestamp("2026-12-07T10:00:00Z").addToFinalizers("ci.nixek.dev/logs").build());
    job.setSpec(new NixekJobSpec());
    NixekJobStatus st = new NixekJobStatus();
    NixekJobEvaluation evaluation = new NixekJobEvaluation();
    NixekJobStep big = new NixekJobStep();
    big.name = "build";
    big.run = "x".repeat(evaluationLimit - 100);
    evaluation.steps = List.of(big);
    st.evaluation = evaluation;
    long evaluationStored = ObjectBudget.storedBytes(Serialization.asJson(evaluation));
    assertThat(evaluationStored).as("the stand-in evaluation is the limit's size").isBetween(
        evaluationLimit - 200L, (long) evaluationLimit);
    st.steps = new java.util.ArrayList<>();
    int tail = OutputTail.limitFor(steps, 4096, 131072);
    for (int i = 0; i < steps; i++) {
      NixekStepStatus s = new NixekStepStatus();
      s.name = "<".repeat(NixekJobStep.NAME_MAX);
      s.state = State.Succeeded;
      s.exitCode = Integer.MIN_VALUE;
      s.timedOut = true;
      s.startTime = LONGEST_TIME;
      s.finishTime = LONGEST_TIME;
      s.outputTail = "x".repeat(tail);
      s.outputBytes = Long.MAX_VALUE;
      s.outputChunks = Long.MAX_VALUE;
      s.outputCutAtBytes = Long.MAX_VALUE;
      s.artifactsNotListed = Long.MAX_VALUE;
      st.steps.add(s);
    }
    st.sealedSecrets = sealedAtTheLimit();
    // artifact entries as the report API lists them: while their stored bytes stay within the budget
    List<NixekArtifactStatus> artifacts = new java.util.ArrayList<>();
    long artifactBytes = 0;
    for (int i = 0; ; i++) {
      NixekArtifactStatus a = new NixekArtifactStatus();
      a.name = "a".repeat(100);
      String prefix = "dist/" + i + "/";
      a.path = prefix + "<".repeat(1024 - prefix.length());
      a.error = "&".repeat(512);
      long bytes = ObjectBudget.storedBytes(Serialization.asJson(a)) + 1;
      if (artifactBytes + bytes > ObjectBudget.ARTIFACT_STATUS_MAX_BYTES) {
        break;
      }
      artifacts.add(a);
      artifactBytes += bytes;
    }
    st.steps.get(0).artifacts = artifacts;
    st.conditions = List.of(new io.fabric8.kubernetes.api.model.ConditionBuilder().withType("Succeeded")
        .withStatus("False").withReason("StepFailed").withMessage("m".repeat(1024)).withObservedGeneration(1L)
        .withLastTransitionTime("2026-12-07T10:00:00Z").build());
    st.observedGeneration = 1L;
    st.instanceId = "i-0123456789abcdef0";
    st.attempt = 1;
    st.launchToken = "t".repeat(64);
    st.stepTokenSha256 = "0".repeat(64);
    st.startTime = LONGEST_TIME;
    st.completionTime = LONGEST_TIME;
    job.setStatus(st);

    long stored = ObjectBudget.storedBytes(Serialization.asJson(job));
    assertThat(stored).as("the whole job as stored").isLessThanOrEqualTo(ObjectBudget.ETCD_OBJECT_LIMIT);
    long counted = ObjectBudget.worstObject(evaluationLimit, 4096, 131072);
    assertThat(counted).as("the budget's sum covers the measured object").isGreaterThanOrEqualTo(stored);
    System.out.printf("a job at every limit: %d bytes stored (budget %d, etcd %d); artifacts %d entries, %d bytes; "
        + "sealed secrets %d bytes%n", stored, counted, ObjectBudget.ETCD_OBJECT_LIMIT, artifacts.size(),
        artifactBytes, st.sealedSecrets.length());
  }

  private static String sealedAtTheLimit() {
    byte[] value = new byte[16 * 1024];
    new java.security.SecureRandom().nextBytes(value);
    Map<String, byte[]> values = new java.util.LinkedHashMap<>();
    values.put("s".repeat(253) + "/" + "k".repeat(253), value);
    values.put(":checkout/token", "g".repeat(255).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Sealer sealer = new Sealer(SealKey.random());
    return SealedJobSecrets.seal(sealer, values, SealedJobSecrets.context("n".repeat(63), "j".repeat(253),
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Integer.MAX_VALUE));
  }
}
