package dev.nixek.ci.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobAttempt;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.operator.testing.TestJobs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Which endings spec.retries may retry: a table over every reason that ends a job. */
class RetryPolicyTest {
  /** Every job reason that ends a job, and whether a retry may follow it. */
  private static final Map<ConditionReason, Boolean> TABLE = Map.ofEntries(
      Map.entry(ConditionReason.Succeeded, false),
      Map.entry(ConditionReason.StepFailed, false),
      Map.entry(ConditionReason.TimedOut, false),
      Map.entry(ConditionReason.AgentNeverReported, true),
      Map.entry(ConditionReason.Cancelled, false),
      Map.entry(ConditionReason.LaunchFailed, false),
      Map.entry(ConditionReason.InstanceLost, true),
      Map.entry(ConditionReason.ImageFailed, false),
      Map.entry(ConditionReason.EvaluationFailed, false),
      Map.entry(ConditionReason.NoMachine, false),
      Map.entry(ConditionReason.SecretNotAllowed, false),
      Map.entry(ConditionReason.InvalidSpec, false));

  @Test
  void theTableCoversEveryReasonThatEndsAJob() {
    assertThat(TABLE.keySet()).containsExactlyInAnyOrderElementsOf(Arrays.stream(ConditionReason.values())
        .filter(r -> r.appliesTo(ConditionReason.Kind.JOB) && r.status() != ConditionReason.Status.UNKNOWN)
        .collect(Collectors.toList()));
  }

  @Test
  void onlyInfrastructureFailuresAreRetried() {
    TABLE.forEach((reason, retried) -> assertThat(RetryPolicy.retries(reason)).as("%s", reason).isEqualTo(retried));
  }

  @Test
  void retriesAreCountedAgainstTheSpec() {
    NixekJob job = TestJobs.job("ci", "j", TestJobs.run("a", "true"));
    NixekJobStatus status = new NixekJobStatus();
    assertThat(RetryPolicy.retry(job, status, ConditionReason.InstanceLost)).as("no spec.retries").isFalse();
    job.getSpec().retries = 2;
    assertThat(RetryPolicy.retry(job, status, ConditionReason.InstanceLost)).isTrue();
    assertThat(RetryPolicy.retry(job, status, ConditionReason.StepFailed)).isFalse();
    status.attempts = new ArrayList<>(List.of(new NixekJobAttempt()));
    assertThat(RetryPolicy.retry(job, status, ConditionReason.AgentNeverReported)).isTrue();
    status.attempts.add(new NixekJobAttempt());
    assertThat(RetryPolicy.retry(job, status, ConditionReason.InstanceLost)).as("both retries used").isFalse();
    job.getSpec().retries = 5;
    job.getSpec().cancel = true;
    assertThat(RetryPolicy.retry(job, status, ConditionReason.InstanceLost)).as("cancelled").isFalse();
  }

  @Test
  void aRetryIsPendingWhileTheLastRecordedAttemptIsTheCurrentOne() {
    NixekJobStatus s = new NixekJobStatus();
    s.attempt = 1;
    assertThat(JobRetries.pending(s)).isFalse();
    NixekJobAttempt first = new NixekJobAttempt();
    first.attempt = 1;
    s.attempts = List.of(first);
    assertThat(JobRetries.pending(s)).isTrue();
    s.attempt = 2;
    assertThat(JobRetries.pending(s)).isFalse();
  }
}
