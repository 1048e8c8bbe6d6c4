package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * Writes the operator's share of a job's status: a fresh object carrying only name, namespace and the operator's
 * fields (never {@code steps} or {@code evaluation}), by server-side apply under the operator's field manager — or,
 * on API servers without server-side apply (the demo's mock), a JSON patch that likewise leaves the report API's
 * fields alone.
 * Through JOSDK's resource operations, so the next reconcile sees this write even before its watch event.
 */
final class JobStatusWriter {
  private final boolean useSsa;

  JobStatusWriter(boolean useSsa) {
    this.useSsa = useSsa;
  }

  /**
   * Writes {@code status}; with {@code precondition} the write fails with 409 unless the job is still at the
   * resourceVersion it was read at — used before launching, so a launch token is never written over a newer state.
   */
  NixekJob write(Context<NixekJob> context, NixekJob job, NixekJobStatus status, boolean precondition) {
    NixekJob fresh = new NixekJob();
    fresh.setMetadata(new ObjectMetaBuilder()
        .withName(job.getMetadata().getName())
        .withNamespace(job.getMetadata().getNamespace())
        .withResourceVersion(precondition ? job.getMetadata().getResourceVersion() : null)
        .build());
    fresh.setStatus(OperatorStatus.of(status));
    if (useSsa) {
      return context.resourceOperations().serverSideApplyPrimaryStatus(fresh);
    }
    return context.resourceOperations().jsonPatchPrimaryStatus(job, current -> {
      NixekJobStatus merged = OperatorStatus.of(status);
      merged.steps = current.getStatus() == null ? null : current.getStatus().steps;
      merged.evaluation = current.getStatus() == null ? null : current.getStatus().evaluation;
      current.setStatus(merged);
      if (precondition) {
        current.getMetadata().setResourceVersion(job.getMetadata().getResourceVersion());
      }
      return current;
    });
  }
}
