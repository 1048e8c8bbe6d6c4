package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.aws.ImageImporter.Snapshot;
import dev.nixek.ci.operator.aws.ImageStore.StoredObject;
import dev.nixek.ci.operator.aws.Ec2Tags;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the image collector removes, decided from what it listed (pure, so it is tested without AWS). A resource of
 * this cluster goes when no live image references it — not by id, and not by identity (an image still building
 * would adopt the AMI of its identity) — and it is older than the grace period (younger ones may belong to an image
 * the listing of live images was too early to see, or to a reconcile that has not recorded them yet).
 */
record ImageGcPlan(List<Ami> deregister, List<Snapshot> deleteSnapshots, List<StoredObject> deleteObjects) {

  /** This cluster's resources in one region, as listed. */
  record Inventory(List<Ami> amis, List<Snapshot> snapshots, List<StoredObject> objects) {}

  /** What live images reference: identities (hashes), AMI ids, snapshot ids, S3 URIs. */
  record Live(Set<String> identities, Set<String> imageIds, Set<String> snapshotIds, Set<String> s3Uris) {}

  static ImageGcPlan decide(Inventory inventory, Live live, String objectPrefix, Instant now, Duration grace) {
    List<Ami> deregister = new ArrayList<>();
    Set<String> keptSnapshots = new HashSet<>();
    for (Ami ami : inventory.amis()) {
      boolean referenced = in(live.identities(), ami.tags().get(Ec2Tags.IMAGE_HASH))
          || in(live.imageIds(), ami.imageId());
      if (referenced || !old(ami.created(), now, grace)) {
        keptSnapshots.addAll(ami.snapshotIds());
      } else {
        deregister.add(ami);
      }
    }
    List<Snapshot> deleteSnapshots = new ArrayList<>();
    for (Snapshot s : inventory.snapshots()) {
      boolean referenced = in(live.identities(), s.tags().get(Ec2Tags.IMAGE_HASH))
          || in(live.snapshotIds(), s.snapshotId()) || keptSnapshots.contains(s.snapshotId());
      if (!referenced && old(s.startTime(), now, grace)) {
        deleteSnapshots.add(s);
      }
    }
    List<StoredObject> deleteObjects = new ArrayList<>();
    for (StoredObject o : inventory.objects()) {
      String identity = identityOf(o.key(), objectPrefix);
      boolean referenced = identity == null || in(live.identities(), identity)
          || in(live.s3Uris(), "s3://" + o.bucket() + "/" + o.key());
      if (!referenced && old(o.lastModified(), now, grace)) {
        deleteObjects.add(o);
      }
    }
    return new ImageGcPlan(deregister, deleteSnapshots, deleteObjects);
  }

  boolean isEmpty() {
    return deregister.isEmpty() && deleteSnapshots.isEmpty() && deleteObjects.isEmpty();
  }

  /** The identity in {@code <prefix>/<identity>/<file>}; null for keys of another shape (left alone). */
  static String identityOf(String key, String objectPrefix) {
    if (!key.startsWith(objectPrefix)) {
      return null;
    }
    String rest = key.substring(objectPrefix.length());
    int slash = rest.indexOf('/');
    return slash <= 0 ? null : rest.substring(0, slash);
  }

  /** Null-safe (an untagged resource has no identity; immutable sets reject contains(null)). */
  private static boolean in(Set<String> set, String value) {
    return value != null && set.contains(value);
  }

  /** Unknown age counts as young: nothing is removed on a guess. */
  private static boolean old(Instant created, Instant now, Duration grace) {
    return created != null && !created.plus(grace).isAfter(now);
  }
}
