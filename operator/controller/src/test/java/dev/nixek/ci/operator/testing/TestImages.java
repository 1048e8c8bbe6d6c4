package dev.nixek.ci.operator.testing;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.image.ImageIdentity;
import dev.nixek.ci.operator.image.ImageNames;
import java.time.Instant;
import java.util.Map;

/** Machine images in tests: what the image reconciler would have produced. */
public final class TestImages {
  private TestImages() {}

  /** Creates image {@code name} without status (not built yet). */
  public static NixekMachineImage create(KubernetesClient client, String namespace, String name) {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    image.setSpec(spec());
    return client.resources(NixekMachineImage.class).inNamespace(namespace).resource(image).create();
  }

  /**
   * The AMI name under which an operator configured by {@code operatorEnv} finds the images {@link #create} makes:
   * registering an AMI under it in the EC2 endpoint makes the image reconciler take that AMI (its content-addressed
   * cache) instead of building.
   */
  public static String amiName(Map<String, String> operatorEnv, String namespace) {
    OperatorConfig config = OperatorConfig.fromEnv(operatorEnv);
    return ImageNames.ami(config.clusterId(), ImageIdentity.of(spec(), config.images(), namespace));
  }

  private static NixekMachineImageSpec spec() {
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    spec.machine = "{ pkgs, ... }: { }";
    spec.system = "x86_64-linux";
    return spec;
  }

  /** Marks image {@code name} Ready with {@code imageId} (as the image reconciler does once the AMI is registered). */
  public static NixekMachineImage markReady(KubernetesClient client, String namespace, String name, String imageId) {
    var images = client.resources(NixekMachineImage.class).inNamespace(namespace);
    NixekMachineImage image = images.withName(name).get();
    NixekMachineImageStatus status = new NixekMachineImageStatus();
    status.imageId = imageId;
    status.observedGeneration = image.getMetadata().getGeneration();
    status.conditions = Conditions.with(null, Conditions.READY, Conditions.TRUE, "Ready", "registered " + imageId,
        status.observedGeneration, Instant.now());
    image.setStatus(status);
    return images.resource(image).updateStatus();
  }

  /** Creates image {@code name} Ready with {@code imageId}. */
  public static NixekMachineImage ready(KubernetesClient client, String namespace, String name, String imageId) {
    create(client, namespace, name);
    return markReady(client, namespace, name, imageId);
  }
}
