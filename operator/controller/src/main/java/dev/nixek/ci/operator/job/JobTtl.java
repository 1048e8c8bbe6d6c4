package dev.nixek.ci.operator.job;

import static dev.nixek.ci.common.status.Conditions.SUCCEEDED;
import static dev.nixek.ci.operator.job.JobPass.LOG;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Deletes finished jobs after their time to live ({@code spec.ttlSecondsAfterFinished}, else
 * {@code NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED}), as the TTL-after-finished controller does for batch/v1 Jobs, once
 * their machine is confirmed terminated. Objects the job owns go with it by owner reference; an inline machine's image
 * no job uses any more is then collected by the inline-image collector.
 */
final class JobTtl {
  private final Optional<Duration> operatorDefault;

  JobTtl(Optional<Duration> operatorDefault) {
    this.operatorDefault = operatorDefault;
  }

  /** The job's time to live after it finished; empty: kept. */
  Optional<Duration> of(NixekJob job) {
    Long own = job.getSpec() == null ? null : job.getSpec().ttlSecondsAfterFinished;
    return own != null ? Optional.of(Duration.ofSeconds(own)) : operatorDefault;
  }

  /**
   * Ends the reconcile of a finished job: looks again while its machine is not confirmed terminated, then deletes the
   * job once its time to live has passed (or looks again when it will have).
   */
  UpdateControl<NixekJob> afterFinished(JobPass pass, boolean machineTerminated) {
    if (!machineTerminated) {
      return pass.finish(true);
    }
    Optional<Duration> ttl = of(pass.job());
    Optional<Instant> finished = JobPass.time(pass.next().completionTime).or(() -> Conditions
        .find(pass.next().conditions, SUCCEEDED).map(Condition::getLastTransitionTime).flatMap(JobPass::time));
    if (ttl.isEmpty() || finished.isEmpty()) {
      return pass.finish(false);
    }
    Instant due = finished.get().plus(ttl.get());
    if (pass.now().isBefore(due)) {
      return pass.finish(Duration.between(pass.now(), due));
    }
    if (pass.job().getMetadata().getDeletionTimestamp() != null) {
      return UpdateControl.noUpdate();
    }
    pass.finish(false);
    delete(pass, ttl.get());
    return UpdateControl.noUpdate();
  }

  private static void delete(JobPass pass, Duration ttl) {
    NixekJob job = pass.job();
    // by UID: a job re-created under the same name since this reconcile read it is not the one that finished
    NixekJob fresh = pass.fresh();
    if (fresh == null || !fresh.getMetadata().getUid().equals(job.getMetadata().getUid())) {
      return;
    }
    try {
      pass.client().resources(NixekJob.class).inNamespace(job.getMetadata().getNamespace())
          .withName(job.getMetadata().getName()).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      LOG.info("job {} deleted {}s after it finished (ttlSecondsAfterFinished)", pass.ref(), ttl.toSeconds());
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }
}
