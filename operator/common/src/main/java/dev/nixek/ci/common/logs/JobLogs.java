package dev.nixek.ci.common.logs;

import java.util.Objects;

/** Every stored log of one job (by uid: a job of the same name created later is another job). */
public record JobLogs(String namespace, String jobName, String jobUid) {
  public JobLogs {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(jobUid, "jobUid");
  }

  /** Step {@code index} of this job. */
  public StepLog step(int index) {
    return new StepLog(namespace, jobName, jobUid, index);
  }
}
