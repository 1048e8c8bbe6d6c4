package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.ConditionReason.Kind;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.GitOpsConditions;
import dev.nixek.ci.e2e.HealthJudges.Verdict;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Argo CD's health check (Lua, under lua5.4) and kstatus (cli-utils) on objects whose conditions the operator's own
 * status computation made ({@link Conditions}, {@link GitOpsConditions}), for every reason of both kinds — so a
 * reason added later (e.g. {@code Queued}) is judged without this test changing. {@link GitOpsE2E} does the same on
 * objects captured from real runs on a real API server.
 */
class HealthChecksTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  static Stream<ConditionReason> jobReasons() {
    return Arrays.stream(ConditionReason.values()).filter(r -> r.appliesTo(Kind.JOB));
  }

  static Stream<ConditionReason> imageReasons() {
    return Arrays.stream(ConditionReason.values()).filter(r -> r.appliesTo(Kind.IMAGE));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jobReasons")
  void aJobIsJudgedByItsSucceededCondition(ConditionReason reason) {
    String json = Serialization.asJson(job(reason, "the message of " + reason, 1L));
    assertThat(HealthJudges.argo(json)).isEqualTo(new Verdict(argoFor(reason), reason + ": the message of " + reason));
    Verdict k = HealthJudges.kstatus(json);
    assertThat(k.status()).as("%s", k).isEqualTo(kstatusFor(reason));
    if (!"Current".equals(k.status())) {
      assertThat(k.message()).isEqualTo("the message of " + reason);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("imageReasons")
  void anImageIsJudgedByItsReadyCondition(ConditionReason reason) {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("img").withGeneration(2L).build());
    image.setSpec(new NixekMachineImageSpec());
    image.getSpec().machine = "{ }";
    NixekMachineImageStatus status = new NixekMachineImageStatus();
    status.observedGeneration = 2L;
    status.conditions = GitOpsConditions.forImage(
        Conditions.with(null, Conditions.READY, reason, "image says " + reason, 2L, NOW), NOW);
    image.setStatus(status);
    String json = Serialization.asJson(image);
    assertThat(HealthJudges.argo(json)).isEqualTo(new Verdict(argoFor(reason), reason + ": image says " + reason));
    assertThat(HealthJudges.kstatus(json).status()).isEqualTo(kstatusFor(reason));
  }

  /** A status computed for an older generation is not trusted by either judge. */
  @Test
  void aStatusOfAnOlderGenerationIsInProgress() {
    NixekJob job = job(ConditionReason.Succeeded, "done", 1L);
    job.getMetadata().setGeneration(2L);
    String json = Serialization.asJson(job);
    assertThat(HealthJudges.argo(json))
        .isEqualTo(new Verdict("Progressing", "the nixek-ci operator has not seen generation 2 yet"));
    assertThat(HealthJudges.kstatus(json))
        .isEqualTo(new Verdict("InProgress", "NixekJob generation is 2, but latest observed generation is 1"));
  }

  /**
   * Before the operator's first write: Argo CD waits; kstatus cannot tell (no observedGeneration, no condition) and
   * calls it Current — the gap docs/operations.md warns about.
   */
  @Test
  void aJobWithoutStatus() {
    NixekJob job = TestJobs.job("ns", "new", TestJobs.run("a", "true"));
    job.getMetadata().setGeneration(1L);
    String json = Serialization.asJson(job);
    assertThat(HealthJudges.argo(json)).isEqualTo(new Verdict("Progressing", "waiting for the nixek-ci operator"));
    assertThat(HealthJudges.kstatus(json).status()).isEqualTo("Current");
  }

  /** Messages reach Lua intact: quotes, backslashes, control characters, non-ASCII. */
  @Test
  void anAwkwardMessageSurvivesTheTripToLua() {
    NixekJob job = job(ConditionReason.EvaluationFailed, "nix says \"no\" \\ at C:\\x\n\tline ✓ 🚀 ]]", 1L);
    String stored = Conditions.find(job.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow().getMessage();
    assertThat(stored).contains("\"no\"", "\\", "✓ 🚀 ]]");
    assertThat(HealthJudges.argo(Serialization.asJson(job)))
        .isEqualTo(new Verdict("Degraded", "EvaluationFailed: " + stored));
  }

  /** docs/operations.md shows each script, as the argocd-cm entry, exactly as the chart ships it. */
  @Test
  void theOperationsDocShowsTheShippedScripts() throws java.io.IOException {
    String doc = java.nio.file.Files.readString(ManifestsIT.HOME.resolve("docs/operations.md"));
    for (String kind : java.util.List.of("NixekJob", "NixekMachineImage")) {
      String script = java.nio.file.Files.readString(HealthJudges.HEALTH.resolve(kind.toLowerCase() + ".lua"));
      String indented = script.lines().map(l -> l.isEmpty() ? "" : "    " + l)
          .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
      assertThat(doc).contains("  resource.customizations.health.ci.nixek.dev_" + kind + ": |\n" + indented);
    }
  }

  private static NixekJob job(ConditionReason reason, String message, long generation) {
    NixekJob job = TestJobs.job("ns", "j", TestJobs.run("a", "true"));
    job.getMetadata().setGeneration(generation);
    NixekJobStatus status = new NixekJobStatus();
    status.observedGeneration = generation;
    status.conditions = GitOpsConditions.forJob(
        Conditions.with(null, Conditions.SUCCEEDED, reason, message, generation, NOW), generation, NOW);
    job.setStatus(status);
    return job;
  }

  static String argoFor(ConditionReason r) {
    return switch (r.status()) {
      case UNKNOWN -> "Progressing";
      case TRUE -> "Healthy";
      case FALSE -> "Degraded";
    };
  }

  static String kstatusFor(ConditionReason r) {
    return switch (r.status()) {
      case UNKNOWN -> "InProgress";
      case TRUE -> "Current";
      case FALSE -> "Failed";
    };
  }
}
