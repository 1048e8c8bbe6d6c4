package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * Writes an image's status: a fresh object with only name, namespace and status, by server-side apply under the
 * operator's field manager (fields left out are removed, so a reset status really resets) — or, on API servers
 * without server-side apply (the demo's mock), a JSON patch against the image read. Through JOSDK's resource
 * operations, so the next reconcile sees the write even before its watch event arrives.
 */
final class ImageStatusWriter {
  private final boolean useSsa;

  ImageStatusWriter(boolean useSsa) {
    this.useSsa = useSsa;
  }

  NixekMachineImage write(Context<NixekMachineImage> context, NixekMachineImage image,
      NixekMachineImageStatus status) {
    if (useSsa) {
      NixekMachineImage fresh = new NixekMachineImage();
      fresh.setMetadata(new ObjectMetaBuilder()
          .withName(image.getMetadata().getName())
          .withNamespace(image.getMetadata().getNamespace())
          .build());
      fresh.setStatus(ImageStatuses.copy(status));
      return context.resourceOperations().serverSideApplyPrimaryStatus(fresh);
    }
    return context.resourceOperations().jsonPatchPrimaryStatus(image, current -> {
      current.setStatus(ImageStatuses.copy(status));
      return current;
    });
  }
}
