package dev.nixek.ci.operator.logs;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes a job's step logs when the job is deleted, from the job's finalizer (after its machine is terminated, so
 * its agent sends nothing more). Never holds the finalizer: when the store cannot be reached the deletion is left to
 * {@link LogCollector}, which deletes the logs of every job uid that no longer exists.
 */
public final class JobLogCleanup {
  private static final Logger LOG = LoggerFactory.getLogger(JobLogCleanup.class);

  /** No store to clean (no log store configured). */
  public static final JobLogCleanup NONE = new JobLogCleanup(null);

  private final LogStore store;

  /** @param store the log store; null for none */
  public JobLogCleanup(LogStore store) {
    this.store = store;
  }

  /** Deletes the job's logs; true when they are gone (or there is no store), false when left to the collector. */
  public boolean jobDeleted(NixekJob job) {
    if (store == null) {
      return true;
    }
    JobLogs logs = of(job);
    try {
      store.delete(logs);
      LOG.debug("deleted the logs of job {}/{} (uid {})", logs.namespace(), logs.jobName(), logs.jobUid());
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete the logs of job {}/{} (uid {}); the log collector will: {}", logs.namespace(),
          logs.jobName(), logs.jobUid(), e.toString());
      return false;
    }
  }

  /** The store's key of a job's logs. */
  public static JobLogs of(NixekJob job) {
    return new JobLogs(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getMetadata().getUid());
  }
}
