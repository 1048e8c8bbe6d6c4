package dev.nixek.ci.common.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;

/**
 * Owner references for what a job or an image owns (a job's token records, its evaluation pod and what it mounts; an
 * image's builder pod and ConfigMap): Kubernetes deletes them with their owner.
 */
public final class Owners {
  private Owners() {}

  /** The controller owner reference to {@code owner}. */
  public static OwnerReference controller(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .build();
  }
}
