package dev.nixek.ci.common.logs;

import java.util.Objects;

/**
 * One step's log. Keyed by the job's uid as well as its name, so that a later job of the same name never reads or
 * extends an earlier job's log; by the step's index, never its name (docs/architecture.md#step-names-and-identifiers).
 */
public record StepLog(String namespace, String jobName, String jobUid, int stepIndex) {
  public StepLog {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(jobUid, "jobUid");
    if (stepIndex < 0) {
      throw new IllegalArgumentException("stepIndex must be >= 0, was " + stepIndex);
    }
  }

  /** The job this step belongs to. */
  public JobLogs job() {
    return new JobLogs(namespace, jobName, jobUid);
  }
}
