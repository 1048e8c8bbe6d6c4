package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * What deleting an image removes from AWS, decided from its status, the other images and what AWS answers to two
 * look-ups (pure given those, so it is tested without AWS): nothing when the image recorded nothing or another live
 * image shares what it made; otherwise its AMIs, snapshots and S3 object.
 */
sealed interface ImageDeletionPlan {
  /** The status records no identity and region: the image made nothing. */
  record NothingRecorded() implements ImageDeletionPlan {}

  /** Another live image uses what this one made: all of it stays. */
  record Shared(NixekMachineImage sharer) implements ImageDeletionPlan {}

  /** The sole owner's resources, in the order they go: AMIs, then snapshots, then the S3 object (or null). */
  record Remove(String region, List<String> deregister, List<String> deleteSnapshots, String deleteObject)
      implements ImageDeletionPlan {}

  /** What the plan asks of AWS, only for a sole owner, in this order. */
  interface Lookup {
    /** The AMI of this name, if one is registered. */
    Optional<Ami> findByName(String region, String amiName);

    /** The snapshot the import task made (null if none yet). */
    String importedSnapshot(String region, String importTaskId);
  }

  /**
   * Decides for {@code image} among {@code images} (the cache: the image itself and images being deleted do not
   * count); {@code targetKey} gives an image's {@link ImageTarget#key()} (empty for an invalid spec).
   */
  static ImageDeletionPlan decide(NixekMachineImage image, Stream<NixekMachineImage> images,
      Function<NixekMachineImage, Optional<String>> targetKey, Lookup aws) {
    NixekMachineImageStatus s = image.getStatus();
    if (s == null || s.imageHash == null || s.region == null) {
      return new NothingRecorded();
    }
    Optional<NixekMachineImage> sharer = sharers(image, images, targetKey).findFirst();
    if (sharer.isPresent()) {
      return new Shared(sharer.get());
    }
    Set<String> amis = new LinkedHashSet<>();
    Set<String> snapshots = new LinkedHashSet<>();
    if (s.imageId != null) {
      amis.add(s.imageId);
    }
    if (s.amiName != null) {
      // registered, but the operator may have died before recording it
      aws.findByName(s.region, s.amiName).ifPresent(a -> {
        amis.add(a.imageId());
        snapshots.addAll(a.snapshotIds());
      });
    }
    if (s.snapshotId != null) {
      snapshots.add(s.snapshotId);
    }
    if (s.importTaskId != null) {
      String imported = aws.importedSnapshot(s.region, s.importTaskId);
      if (imported != null) {
        snapshots.add(imported);
      }
    }
    return new Remove(s.region, List.copyOf(amis), List.copyOf(snapshots), s.s3Uri);
  }

  /** Live images that use what {@code image} made: the same identity and region, or the same AWS resources. */
  private static Stream<NixekMachineImage> sharers(NixekMachineImage image, Stream<NixekMachineImage> images,
      Function<NixekMachineImage, Optional<String>> targetKey) {
    NixekMachineImageStatus s = image.getStatus();
    String key = ImageTarget.key(s.imageHash, s.region);
    return images
        .filter(o -> !o.getMetadata().getUid().equals(image.getMetadata().getUid()))
        .filter(o -> o.getMetadata().getDeletionTimestamp() == null)
        .filter(o -> {
          NixekMachineImageStatus os = o.getStatus();
          boolean sameStatus = os != null && (key.equals(ImageTarget.key(os.imageHash, os.region))
              || same(s.imageId, os.imageId) || same(s.snapshotId, os.snapshotId) || same(s.s3Uri, os.s3Uri));
          return sameStatus || targetKey.apply(o).map(key::equals).orElse(false);
        });
  }

  private static boolean same(String a, String b) {
    return a != null && a.equals(b);
  }
}
