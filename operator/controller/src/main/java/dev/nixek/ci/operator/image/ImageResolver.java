package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;

/**
 * Finds the machine image a job boots from: the image named by {@code spec.machineImageName}, or the
 * content-addressed image of an inline machine. The job reconciler asks it only when its provider boots images.
 */
public interface ImageResolver {
  /** What the job's image looks like now. */
  sealed interface Resolution {
    /** The image is registered; launch from {@code imageId}. */
    record Ready(String imageId, String imageName) implements Resolution {}

    /** Not yet: the job waits (condition reason {@code reason}) and is reconciled again when the image changes. */
    record Waiting(ConditionReason reason, String message) implements Resolution {}

    /** The image cannot become ready (it failed to build or import): the job fails with {@code reason}. */
    record Failed(ConditionReason reason, String message) implements Resolution {}
  }

  Resolution resolve(NixekJob job);
}
