package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.aws.ImageStore;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.image.ImageDeletionPlan.Remove;
import dev.nixek.ci.operator.image.ImageDeletionPlan.Shared;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Carries out an {@link ImageDeletionPlan} for a deleted image: deregisters, deletes snapshots, deletes the object. */
final class ImageDeletion {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDeletion.class);

  private final OperatorConfig config;
  private final AwsClients aws;
  private final ImageTargets targets;

  ImageDeletion(OperatorConfig config, AwsClients aws, ImageTargets targets) {
    this.config = config;
    this.aws = aws;
    this.targets = targets;
  }

  /** Removes what the image alone made; AWS errors propagate to the caller's retry. */
  DeleteControl delete(NixekMachineImage image, Context<NixekMachineImage> context) {
    ImageDeletionPlan plan = ImageDeletionPlan.decide(image, context.getPrimaryCache().list(),
        o -> targets.find(o).map(ImageTarget::key), new Ec2Lookup(aws));
    if (plan instanceof Shared shared) {
      LOG.info("image {} deleted; its AMI, snapshot and S3 object stay: {} shares them", ResourceID.fromResource(image),
          ResourceID.fromResource(shared.sharer()));
      return DeleteControl.defaultDelete();
    }
    if (!(plan instanceof Remove remove)) {
      return DeleteControl.defaultDelete();
    }
    ImageImporter ec2 = new ImageImporter(aws.ec2(remove.region()));
    for (String id : remove.deregister()) {
      ec2.deregister(id);
    }
    for (String id : remove.deleteSnapshots()) {
      if (ec2.deleteSnapshot(id) == ImageImporter.DeleteResult.IN_USE) {
        // the deregistration has not reached the snapshot yet
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(config.images().pollMin());
      }
    }
    if (remove.deleteObject() != null) {
      // a running import of it then fails, and leaves no snapshot behind
      new ImageStore(aws.s3(remove.region())).delete(ImageStore.Location.parse(remove.deleteObject()));
    }
    LOG.info("image {} deleted: deregistered {}, deleted snapshots {} and {}", ResourceID.fromResource(image),
        remove.deregister(), remove.deleteSnapshots(), remove.deleteObject());
    return DeleteControl.defaultDelete();
  }

  /** The plan's look-ups, asked of EC2 in the image's region. */
  private record Ec2Lookup(AwsClients aws) implements ImageDeletionPlan.Lookup {
    @Override
    public Optional<Ami> findByName(String region, String amiName) {
      return new ImageImporter(aws.ec2(region)).findByName(amiName);
    }

    @Override
    public String importedSnapshot(String region, String importTaskId) {
      return new ImageImporter(aws.ec2(region)).describeImport(importTaskId).snapshotId();
    }
  }
}
