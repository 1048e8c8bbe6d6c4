package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The registration: RegisterImage of the imported snapshot, then Ready once the AMI is available. */
final class RegisterStage {
  private static final Logger LOG = LoggerFactory.getLogger(RegisterStage.class);

  private final OperatorConfig config;
  private final AwsClients aws;
  private final ImageCrashPoints crashPoints;

  RegisterStage(OperatorConfig config, AwsClients aws, ImageCrashPoints crashPoints) {
    this.config = config;
    this.aws = aws;
    this.crashPoints = crashPoints;
  }

  /** Registers the AMI, looking its name up first: a crash after RegisterImage must not make a second one. */
  UpdateControl<NixekMachineImage> register(ImagePass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    ImageImporter ec2 = new ImageImporter(aws.ec2(t.region()));
    Optional<Ami> ami = ec2.findByName(t.amiName());
    if (ami.isEmpty()) {
      String bootMode = next.bootMode != null ? next.bootMode
          : t.id().system().startsWith("aarch64") ? "uefi" : "legacy-bios";
      String imageId = ec2.register(new ImageImporter.RegisterRequest(t.amiName(),
          "nixek-ci machine image " + t.id().hash(), t.architecture(), bootMode, next.snapshotId,
          t.id().diskSizeGiB(), ImageNames.tags(config.clusterId(), pass.image, t)));
      crashPoints.reached(ImageCrashPoints.Point.IMAGE_REGISTERED, pass.image);
      LOG.info("image {}: registered {} as {}", ResourceID.fromResource(pass.image), t.amiName(), imageId);
      next.bootMode = bootMode;
      ami = ec2.findByName(t.amiName());
    }
    if (ami.isPresent() && ami.get().available()) {
      return pass.imageReady(ami.get().imageId(), "registered " + ami.get().imageId() + " (" + t.amiName() + ")");
    }
    pass.ready(ConditionReason.Registering, "AMI " + t.amiName() + " is registered"
        + ami.map(a -> " (" + a.imageId() + ", " + a.state() + ")").orElse("") + "; waiting until it is available",
        null);
    return pass.finish(config.images().pollMin());
  }
}
