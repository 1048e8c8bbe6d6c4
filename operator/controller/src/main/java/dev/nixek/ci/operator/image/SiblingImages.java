package dev.nixek.ci.operator.image;

import static dev.nixek.ci.common.status.Conditions.READY;
import static dev.nixek.ci.common.status.Conditions.TRUE;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reuse of what another image of the same identity made: a Ready sibling's AMI, an AMI of the identity's name
 * registered earlier (by an image since deleted or in another namespace), or a sibling's uploaded build.
 */
final class SiblingImages {
  private final AwsClients aws;

  SiblingImages(AwsClients aws) {
    this.aws = aws;
  }

  /** Live images of the same identity and region whose status is of that identity. */
  static Stream<NixekMachineImage> of(ImagePass pass, ImageTarget t) {
    return pass.context.getPrimaryCache().byIndex(NixekMachineImageReconciler.IDENTITY_INDEX, t.key()).stream()
        .filter(o -> !o.getMetadata().getUid().equals(pass.image.getMetadata().getUid()))
        .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
        .filter(o -> o.getStatus() != null && t.id().hash().equals(o.getStatus().imageHash)
            && t.region().equals(o.getStatus().region));
  }

  /**
   * Ends the pass Ready when an AMI of this identity exists already; otherwise adopts a sibling's uploaded build,
   * if there is one, and returns empty. Only for an image that has neither uploaded nor imported anything.
   */
  Optional<UpdateControl<NixekMachineImage>> reuse(ImagePass pass, ImageTarget t) {
    NixekMachineImageStatus next = pass.next;
    Optional<NixekMachineImage> sibling = of(pass, t).filter(o -> isReady(o.getStatus())).findFirst();
    if (sibling.isPresent()) {
      NixekMachineImageStatus s = sibling.get().getStatus();
      adoptBuild(next, s);
      next.importAttempt = s.importAttempt;
      next.importTaskId = s.importTaskId;
      next.importStartTime = s.importStartTime;
      next.snapshotId = s.snapshotId;
      return Optional.of(pass.imageReady(s.imageId, "reusing " + s.imageId + " of NixekMachineImage "
          + ResourceID.fromResource(sibling.get()) + " (same identity)"));
    }
    if (next.builderPod == null) {
      // built before, by an image since deleted or in another namespace: the AMI's name is the cache key
      Optional<Ami> ami = new ImageImporter(aws.ec2(t.region())).findByName(t.amiName());
      if (ami.isPresent() && ami.get().available()) {
        next.snapshotId = ami.get().snapshotIds().isEmpty() ? null : ami.get().snapshotIds().get(0);
        return Optional.of(pass.imageReady(ami.get().imageId(), "reusing " + ami.get().imageId() + " ("
            + t.amiName() + "), registered earlier for this identity"));
      }
    }
    of(pass, t).map(NixekMachineImage::getStatus).filter(s -> s.s3Uri != null).findFirst()
        .ifPresent(s -> adoptBuild(next, s));
    return Optional.empty();
  }

  static boolean isReady(NixekMachineImageStatus s) {
    return s != null && s.imageId != null
        && Conditions.find(s.conditions, READY).map(c -> TRUE.equals(c.getStatus())).orElse(false);
  }

  private static void adoptBuild(NixekMachineImageStatus next, NixekMachineImageStatus from) {
    next.s3Uri = from.s3Uri;
    next.sha256 = from.sha256;
    next.sizeBytes = from.sizeBytes;
    next.drvPath = from.drvPath;
    next.diskFormat = from.diskFormat;
    next.bootMode = from.bootMode;
    next.nixVersion = from.nixVersion;
  }
}
