package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;

/**
 * A valid image spec resolved against the operator's defaults: what to build ({@code id}) and where it goes
 * ({@code region}, {@code bucket}), with the names derived from them.
 */
record ImageTarget(ImageIdentity id, String region, String bucket, String builderName, String amiName) {
  static ImageTarget of(NixekMachineImageSpec spec, String namespace, ImageOptions options, String defaultRegion,
      String clusterId) {
    ImageIdentity id = ImageIdentity.of(spec, options, namespace);
    String region = ImageIdentity.orDefault(spec.region, defaultRegion);
    String bucket = ImageIdentity.orDefault(spec.bucket, options.bucket());
    return new ImageTarget(id, region, bucket, ImageNames.builder(id, region, bucket), ImageNames.ami(clusterId, id));
  }

  /** Images with the same key are the same image in the same place: one build, one import, one AMI. */
  String key() {
    return key(id.hash(), region);
  }

  static String key(String hash, String region) {
    return hash + "|" + region;
  }

  /** EC2's architecture of the system. */
  String architecture() {
    return id.system().startsWith("aarch64") ? "arm64" : "x86_64";
  }
}
