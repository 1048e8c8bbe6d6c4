package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.ConditionReason.Kind;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ready, Reconciling and Stalled follow each kind's own condition, for every reason the enum has. */
class GitOpsConditionsTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void everyJobReasonGivesReadyReconcilingAndStalled() {
    for (ConditionReason r : ConditionReason.values()) {
      if (!r.appliesTo(Kind.JOB)) {
        continue;
      }
      List<Condition> c = GitOpsConditions.forJob(
          Conditions.with(null, Conditions.SUCCEEDED, r, "why", 1L, T0), 1L, T0);
      String s = r.status().value();
      assertThat(c).extracting(Condition::getType).as("%s", r)
          .containsExactly("Ready", "Reconciling", "Stalled", "Succeeded");
      assertThat(find(c, "Ready").getStatus()).as("%s", r).isEqualTo(s);
      assertThat(find(c, "Reconciling").getStatus()).as("%s", r).isEqualTo("Unknown".equals(s) ? "True" : "False");
      assertThat(find(c, "Stalled").getStatus()).as("%s", r).isEqualTo("False".equals(s) ? "True" : "False");
      assertThat(c).allSatisfy(x -> {
        assertThat(x.getReason()).isEqualTo(r.name());
        assertThat(x.getMessage()).isEqualTo("why");
        assertThat(x.getObservedGeneration()).isEqualTo(1L);
      });
    }
  }

  @Test
  void everyImageReasonGivesReconcilingAndStalledButNoSecondReady() {
    for (ConditionReason r : ConditionReason.values()) {
      if (!r.appliesTo(Kind.IMAGE)) {
        continue;
      }
      List<Condition> c = GitOpsConditions.forImage(
          Conditions.with(null, Conditions.READY, r, "why", 3L, T0), T0);
      String s = r.status().value();
      assertThat(c).extracting(Condition::getType).as("%s", r).containsExactly("Ready", "Reconciling", "Stalled");
      assertThat(find(c, "Ready").getStatus()).isEqualTo(s);
      assertThat(find(c, "Reconciling").getStatus()).as("%s", r).isEqualTo("Unknown".equals(s) ? "True" : "False");
      assertThat(find(c, "Stalled").getStatus()).as("%s", r).isEqualTo("False".equals(s) ? "True" : "False");
      assertThat(c).allSatisfy(x -> assertThat(x.getObservedGeneration()).isEqualTo(3L));
    }
  }

  /** A change the operator saw (spec.cancel on an ended job) leaves no condition at the older generation. */
  @Test
  void aJobsConditionsAllMoveToTheStatusGeneration() {
    List<Condition> ended = GitOpsConditions.forJob(
        Conditions.with(null, Conditions.SUCCEEDED, ConditionReason.Succeeded, "done", 1L, T0), 1L, T0);
    List<Condition> later = GitOpsConditions.forJob(ended, 2L, T0.plusSeconds(60));
    assertThat(later).allSatisfy(x -> assertThat(x.getObservedGeneration()).isEqualTo(2L));
    assertThat(later).extracting(Condition::getLastTransitionTime).containsOnly("2026-01-01T00:00:00Z");
  }

  /** An image's Ready says which generation failed: the image reconciler retries once the spec moves past it. */
  @Test
  void anImagesReadyKeepsItsOwnGeneration() {
    List<Condition> failed = Conditions.with(null, Conditions.READY, ConditionReason.BuildFailed, "no", 3L, T0);
    assertThat(find(GitOpsConditions.forImage(failed, T0), "Ready").getObservedGeneration()).isEqualTo(3L);
  }

  @Test
  void aTransitionMovesOnlyTheConditionsWhoseStatusChanged() {
    Instant t1 = T0.plusSeconds(90);
    List<Condition> running = GitOpsConditions.forJob(
        Conditions.with(null, Conditions.SUCCEEDED, ConditionReason.Running, "1/2", 1L, T0), 1L, T0);
    List<Condition> failed = GitOpsConditions.forJob(
        Conditions.with(running, Conditions.SUCCEEDED, ConditionReason.StepFailed, "exit 1", 1L, t1), 1L, t1);
    assertThat(find(failed, "Ready").getLastTransitionTime()).isEqualTo("2026-01-01T00:01:30Z");
    assertThat(find(failed, "Reconciling").getLastTransitionTime()).isEqualTo("2026-01-01T00:01:30Z");
    assertThat(find(failed, "Stalled").getLastTransitionTime()).isEqualTo("2026-01-01T00:01:30Z");
    List<Condition> stillRunning = GitOpsConditions.forJob(
        Conditions.with(running, Conditions.SUCCEEDED, ConditionReason.Running, "2/2", 1L, t1), 1L, t1);
    assertThat(stillRunning).extracting(Condition::getLastTransitionTime).containsOnly("2026-01-01T00:00:00Z");
    assertThat(find(stillRunning, "Reconciling").getMessage()).isEqualTo("2/2");
  }

  @Test
  void aLongMessageIsKeptWholeOnlyInTheOwnCondition() {
    String whole = "x".repeat(2000) + "\uD83D\uDE80";
    List<Condition> c = GitOpsConditions.forJob(
        Conditions.with(null, Conditions.SUCCEEDED, ConditionReason.EvaluationFailed, whole, 1L, T0), 1L, T0);
    assertThat(find(c, "Succeeded").getMessage()).isEqualTo(whole);
    assertThat(find(c, "Stalled").getMessage()).hasSize(GitOpsConditions.MESSAGE_MAX).endsWith("x…");
    String emoji = "\uD83D\uDE80".repeat(200);
    assertThat(GitOpsConditions.abbreviate(emoji).codePointCount(0, GitOpsConditions.abbreviate(emoji).length()))
        .isEqualTo(GitOpsConditions.MESSAGE_MAX);
    assertThat(GitOpsConditions.abbreviate(emoji)).startsWith("\uD83D\uDE80").endsWith("\uD83D\uDE80…");
  }

  @Test
  void nothingIsDerivedBeforeTheOwnConditionExists() {
    assertThat(GitOpsConditions.forJob(List.of(), 1L, T0)).isEmpty();
    assertThat(GitOpsConditions.forImage(null, T0)).isNull();
  }

  private static Condition find(List<Condition> c, String type) {
    return Conditions.find(c, type).orElseThrow();
  }
}
