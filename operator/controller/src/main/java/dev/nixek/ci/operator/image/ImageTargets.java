package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.AwsUnavailableException;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.image.ImageValidator.InvalidField;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Resolves images' specs against the operator's defaults, its default region included. */
final class ImageTargets {
  private static final Logger LOG = LoggerFactory.getLogger(ImageTargets.class);

  private final OperatorConfig config;
  private final AwsClients aws;
  private volatile String defaultRegion;

  ImageTargets(OperatorConfig config, AwsClients aws) {
    this.config = config;
    this.aws = aws;
  }

  /** What is wrong with the image's spec, if anything. */
  Optional<InvalidField> invalid(NixekMachineImage image) {
    return ImageValidator.validate(image.getSpec(), config.images(), defaultRegion());
  }

  /** The target of an image whose spec is valid. */
  ImageTarget of(NixekMachineImage image) {
    return ImageTarget.of(image.getSpec(), image.getMetadata().getNamespace(), config.images(), defaultRegion(),
        config.clusterId());
  }

  /** The image's target; empty when its spec is invalid. */
  Optional<ImageTarget> find(NixekMachineImage image) {
    String region = defaultRegion();
    if (ImageValidator.validate(image.getSpec(), config.images(), region).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(ImageTarget.of(image.getSpec(), image.getMetadata().getNamespace(), config.images(), region,
        config.clusterId()));
  }

  /**
   * The operator's default region ("" for none), resolved on first use and then kept: the configuration and the
   * environment are fixed for the process, and the SDK's chain may ask EC2's metadata service, which is slow to
   * fail where it does not exist.
   */
  String defaultRegion() {
    String r = defaultRegion;
    if (r == null) {
      try {
        r = aws.defaultRegion();
      } catch (AwsUnavailableException e) {
        LOG.warn("no default AWS region ({}); images must name spec.region", e.getMessage());
        r = "";
      }
      defaultRegion = r;
    }
    return r;
  }
}
