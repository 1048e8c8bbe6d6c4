package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which endings of a job {@code spec.retries} may turn into a new attempt: infrastructure failures only, where the
 * job's own work is not what failed. A failing step, a timeout, a cancel or a bad spec would fail again (or was
 * asked for), so they are never retried. Launch capacity errors (EC2 InsufficientInstanceCapacity and the like) do
 * not end a job at all: the launch is retried in place with the same launch token, which launched nothing, and
 * costs no retry.
 */
final class RetryPolicy {
  /** The reasons a retry may follow. */
  static final Set<ConditionReason> RETRIED = EnumSet.of(ConditionReason.InstanceLost,
      ConditionReason.AgentNeverReported);

  private RetryPolicy() {}

  /** Whether a job ending with {@code reason} may be retried at all. */
  static boolean retries(ConditionReason reason) {
    return RETRIED.contains(reason);
  }

  /** The retries the job's spec allows. */
  static int allowed(NixekJob job) {
    Integer r = job.getSpec() == null ? null : job.getSpec().retries;
    return r == null ? 0 : Math.max(0, r);
  }

  /** The retries already made (the earlier attempts recorded in {@code status.attempts}). */
  static int used(NixekJobStatus status) {
    return status == null || status.attempts == null ? 0 : status.attempts.size();
  }

  /** Whether a job about to end with {@code reason} gets a new attempt instead. */
  static boolean retry(NixekJob job, NixekJobStatus next, ConditionReason reason) {
    return retries(reason) && !Boolean.TRUE.equals(job.getSpec().cancel) && used(next) < allowed(job);
  }
}
