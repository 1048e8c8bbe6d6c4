package dev.nixek.ci.operator.metrics;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A Nix job's evaluation is timed from its first Evaluating (or EvaluationPending) status to the status that leaves
 * it, by outcome: evaluated (it moved on: waiting for its image, queued, launching), failed, cancelled.
 */
class EvaluationMetricsTest {
  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  private final OperatorMetrics metrics = new OperatorMetrics();
  private final JobMetrics jobs = metrics.jobs();

  private static NixekJob job(ConditionReason reason) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("j")
        .withCreationTimestamp(T0.toString()).build());
    NixekJobStatus status = new NixekJobStatus();
    status.conditions = Conditions.with(null, SUCCEEDED, reason, "", 1L, T0);
    job.setStatus(status);
    return job;
  }

  private void write(NixekJob before, ConditionReason reason, long seconds) {
    NixekJobStatus after = new NixekJobStatus();
    after.conditions = Conditions.with(before.getStatus().conditions, SUCCEEDED, reason, "", 1L,
        T0.plusSeconds(seconds));
    jobs.written(before, after, T0.plusSeconds(seconds));
  }

  @Test
  void evaluationsAreTimedByOutcome() {
    write(job(ConditionReason.Evaluating), ConditionReason.WaitingForImage, 40);
    write(job(ConditionReason.EvaluationPending), ConditionReason.Queued, 5);
    write(job(ConditionReason.Evaluating), ConditionReason.EvaluationFailed, 12);
    write(job(ConditionReason.Evaluating), ConditionReason.Cancelled, 3);
    // still evaluating, and a YAML job that never evaluated: nothing
    write(job(ConditionReason.EvaluationPending), ConditionReason.Evaluating, 2);
    write(job(ConditionReason.WaitingForImage), ConditionReason.Launching, 50);

    assertThat(metrics.scrape())
        .contains("nixek_evaluation_duration_seconds_count{outcome=\"evaluated\"} 2")
        .contains("nixek_evaluation_duration_seconds_sum{outcome=\"evaluated\"} 45.0")
        .contains("nixek_evaluation_duration_seconds_count{outcome=\"failed\"} 1")
        .contains("nixek_evaluation_duration_seconds_sum{outcome=\"failed\"} 12.0")
        .contains("nixek_evaluation_duration_seconds_count{outcome=\"cancelled\"} 1")
        .contains("nixek_evaluation_duration_seconds_sum{outcome=\"cancelled\"} 3.0");
  }
}
