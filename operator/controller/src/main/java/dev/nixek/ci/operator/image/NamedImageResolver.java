package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/** Resolves {@code spec.machineImageName} to that image's registered AMI. */
public final class NamedImageResolver implements ImageResolver {
  private final KubernetesClient client;

  public NamedImageResolver(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Resolution resolve(NixekJob job) {
    String name = job.getSpec().machineImageName;
    if (name == null) {
      return new Resolution.Failed(ConditionReason.ImageFailed,
          "spec.machine: inline machines are not supported by this resolver");
    }
    return resolve(client.resources(NixekMachineImage.class).inNamespace(job.getMetadata().getNamespace())
        .withName(name).get(), name);
  }

  /** What {@code image} (named {@code name}, null when it does not exist) means for a job. */
  Resolution resolve(NixekMachineImage image, String name) {
    if (image == null) {
      return new Resolution.Waiting(ConditionReason.WaitingForImage,
          "NixekMachineImage '" + name + "' does not exist (yet)");
    }
    Optional<Condition> ready = Conditions.find(image.getStatus() == null ? null : image.getStatus().conditions,
        Conditions.READY);
    if (ready.isPresent() && Conditions.TRUE.equals(ready.get().getStatus()) && image.getStatus().imageId != null) {
      return new Resolution.Ready(image.getStatus().imageId, name);
    }
    if (ready.isPresent() && Conditions.FALSE.equals(ready.get().getStatus())) {
      return new Resolution.Failed(ConditionReason.ImageFailed, "NixekMachineImage '" + name + "' is not ready: "
          + ready.get().getReason() + ": " + ready.get().getMessage());
    }
    return new Resolution.Waiting(ConditionReason.WaitingForImage, "NixekMachineImage '" + name + "' is "
        + ready.map(Condition::getReason).orElse("not built yet"));
  }
}
