package dev.nixek.ci.common.kube;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;

/** Objects a job owns (its token records, its evaluation pod and what it mounts): Kubernetes deletes them with it. */
public final class JobOwned {
  private JobOwned() {}

  /** The controller owner reference to {@code job}. */
  public static OwnerReference by(NixekJob job) {
    return new OwnerReferenceBuilder()
        .withApiVersion(job.getApiVersion())
        .withKind(job.getKind())
        .withName(job.getMetadata().getName())
        .withUid(job.getMetadata().getUid())
        .withController(true)
        .build();
  }
}
