package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.AwsErrors;
import dev.nixek.ci.operator.aws.ImageImporter;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.aws.ImageImporter.Snapshot;
import dev.nixek.ci.operator.aws.ImageStore;
import dev.nixek.ci.operator.aws.ImageStore.StoredObject;
import dev.nixek.ci.operator.aws.Ec2Tags;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Removes this cluster's AMIs, snapshots and S3 objects that no live NixekMachineImage references (after a grace
 * period): what a crash, an out-of-order deletion or a changed spec left behind. It lists AWS first and the live
 * images second, so an image made between the two listings is seen; with the grace period, what a reconcile
 * made but has not recorded yet is left alone. Running it twice at once is safe (deletes are idempotent); with leader
 * election only the leader runs it. It covers the operator's default region and every region a live image uses.
 */
public final class ImageCollector {
  private static final Logger LOG = LoggerFactory.getLogger(ImageCollector.class);

  private final KubernetesClient client;
  private final OperatorConfig config;
  private final AwsClients aws;
  private final Clock clock;

  public ImageCollector(KubernetesClient client, OperatorConfig config, AwsClients aws, Clock clock) {
    this.client = client;
    this.config = config;
    this.aws = aws;
    this.clock = clock;
  }

  /**
   * How long after its start a builder's upload can still be completed: its presigned part URLs live the builder's
   * deadline plus this (ImageUploads, CacheStaging), and the operator completes it when the pod has ended.
   */
  static final Duration UPLOAD_GRANT_MARGIN = Duration.ofMinutes(10);

  /** What one run removed. */
  public record Result(List<String> deregistered, List<String> deletedSnapshots, List<String> deletedObjects,
      List<String> abortedUploads) {
    public int total() {
      return deregistered.size() + deletedSnapshots.size() + deletedObjects.size() + abortedUploads.size();
    }
  }

  public Result collect() {
    Instant now = clock.instant();
    String defaultRegion = defaultRegion();
    Set<String> regions = new LinkedHashSet<>();
    if (!defaultRegion.isEmpty()) {
      regions.add(defaultRegion);
    }
    Set<String> buckets = new LinkedHashSet<>();
    if (!config.images().bucket().isEmpty()) {
      buckets.add(config.images().bucket());
    }
    for (NixekMachineImage image : liveImages()) {
      NixekMachineImageStatus s = image.getStatus();
      if (s != null && s.region != null) {
        regions.add(s.region);
      }
      if (image.getSpec() != null && image.getSpec().bucket != null) {
        buckets.add(image.getSpec().bucket);
      }
    }
    Map<String, String> ours = Map.of(Ec2Tags.CLUSTER_ID, config.clusterId(),
        Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE);
    String objectPrefix = ImageNames.keyPrefix(config.images().keyPrefix(), config.clusterId()) + "/";
    List<String> deregistered = new ArrayList<>();
    List<String> deletedSnapshots = new ArrayList<>();
    List<String> deletedObjects = new ArrayList<>();
    for (String region : regions) {
      ImageImporter ec2 = new ImageImporter(aws.ec2(region));
      ImageStore store = new ImageStore(aws.s3(region));
      // AWS first, then the live images (see the class comment)
      List<Ami> amis = ec2.listImages(ours);
      List<Snapshot> snapshots = new ArrayList<>(ec2.listSnapshots(ours));
      snapshots.addAll(untaggedImportedSnapshots(ec2, ours, snapshots));
      List<StoredObject> objects = new ArrayList<>();
      for (String bucket : buckets) {
        objects.addAll(store.list(bucket, objectPrefix));
      }
      ImageGcPlan plan = ImageGcPlan.decide(new ImageGcPlan.Inventory(amis, snapshots, objects), live(),
          objectPrefix, now, config.images().gcGrace());
      for (Ami ami : plan.deregister()) {
        if (ec2.deregister(ami.imageId())) {
          deregistered.add(ami.imageId());
          LOG.info("image collector: deregistered {} ({}), referenced by no live image", ami.imageId(), ami.name());
        }
      }
      for (Snapshot s : plan.deleteSnapshots()) {
        try {
          ImageImporter.DeleteResult r = ec2.deleteSnapshot(s.snapshotId());
          if (r == ImageImporter.DeleteResult.DELETED) {
            deletedSnapshots.add(s.snapshotId());
            LOG.info("image collector: deleted snapshot {}, referenced by no live image", s.snapshotId());
          }
        } catch (SdkException e) {
          LOG.warn("image collector: cannot delete snapshot {}: {}", s.snapshotId(), AwsErrors.describe(e));
        }
      }
      for (StoredObject o : plan.deleteObjects()) {
        store.delete(new ImageStore.Location(o.bucket(), o.key()));
        deletedObjects.add("s3://" + o.bucket() + "/" + o.key());
        LOG.info("image collector: deleted s3://{}/{}, referenced by no live image", o.bucket(), o.key());
      }
    }
    List<String> abortedUploads = new ArrayList<>();
    if (!defaultRegion.isEmpty()) {
      collectUploads(new ImageStore(aws.s3(defaultRegion)), now, objectPrefix, deletedObjects, abortedUploads);
    }
    return new Result(deregistered, deletedSnapshots, deletedObjects, abortedUploads);
  }

  /**
   * What builders were given to write and nobody finished: image uploads and cache staging uploads never completed
   * nor aborted, and staging bundles never published (the operator stopped between the build's end and the
   * publish). Only what no builder pod can still write and no reconcile can still complete: started more than the
   * builder's deadline, the grant's margin and the grace period ago. The caches' own files are never touched here.
   */
  private void collectUploads(ImageStore store, Instant now, String imagePrefix, List<String> deletedObjects,
      List<String> abortedUploads) {
    Instant staleBefore = now.minus(config.images().builderTimeout()).minus(UPLOAD_GRANT_MARGIN)
        .minus(config.images().gcGrace());
    List<ImageStore.Upload> uploads = new ArrayList<>();
    if (!config.images().bucket().isEmpty()) {
      uploads.addAll(store.uploads(config.images().bucket(), imagePrefix));
    }
    String cacheBucket = config.cache().bucketOr(config.images().bucket());
    String cachePrefix = config.cache().keyPrefix() + "/" + config.clusterId() + "/";
    if (config.cache().enabled() && !cacheBucket.isEmpty()) {
      uploads.addAll(store.uploads(cacheBucket, cachePrefix));
    }
    for (ImageStore.Upload u : uploads) {
      if (u.initiated() != null && u.initiated().isBefore(staleBefore)) {
        store.abort(u);
        abortedUploads.add("s3://" + u.bucket() + "/" + u.key() + " (upload " + u.uploadId() + ")");
        LOG.info("image collector: aborted the unfinished upload of s3://{}/{} started {}", u.bucket(), u.key(),
            u.initiated());
      }
    }
    if (config.cache().enabled() && !cacheBucket.isEmpty()) {
      for (StoredObject o : store.list(cacheBucket, cachePrefix)) {
        String rest = o.key().substring(cachePrefix.length());
        int slash = rest.indexOf('/');
        boolean staging = slash > 0 && rest.startsWith("staging/", slash + 1);
        if (staging && o.lastModified() != null && o.lastModified().isBefore(staleBefore)) {
          store.delete(new ImageStore.Location(o.bucket(), o.key()));
          deletedObjects.add("s3://" + o.bucket() + "/" + o.key());
          LOG.info("image collector: deleted the unpublished cache bundle s3://{}/{}", o.bucket(), o.key());
        }
      }
    }
  }

  /**
   * Snapshots of this cluster's completed import tasks that carry no tags: the operator died (or the image was
   * deleted) between the task's completion and tagging its snapshot. They are judged by the task's tags.
   */
  private static List<Snapshot> untaggedImportedSnapshots(ImageImporter ec2, Map<String, String> ours,
      List<Snapshot> tagged) {
    Set<String> known = new HashSet<>();
    tagged.forEach(s -> known.add(s.snapshotId()));
    List<Snapshot> out = new ArrayList<>();
    for (ImageImporter.ImportTask t : ec2.listImportTasks(ours)) {
      if (t.snapshotId() != null && known.add(t.snapshotId())) {
        ec2.describeSnapshot(t.snapshotId())
            .ifPresent(s -> out.add(new Snapshot(s.snapshotId(), s.startTime(), t.tags())));
      }
    }
    return out;
  }

  private ImageGcPlan.Live live() {
    Set<String> identities = new HashSet<>();
    Set<String> imageIds = new HashSet<>();
    Set<String> snapshotIds = new HashSet<>();
    Set<String> s3Uris = new HashSet<>();
    for (NixekMachineImage image : liveImages()) {
      if (image.getSpec() != null && image.getSpec().machine != null) {
        // also images that have not recorded anything yet: they would adopt an AMI of their identity
        identities.add(ImageIdentity.of(image.getSpec(), config.images(), image.getMetadata().getNamespace()).hash());
      }
      NixekMachineImageStatus s = image.getStatus();
      if (s != null) {
        addIfSet(identities, s.imageHash);
        addIfSet(imageIds, s.imageId);
        addIfSet(snapshotIds, s.snapshotId);
        addIfSet(s3Uris, s.s3Uri);
      }
    }
    return new ImageGcPlan.Live(identities, imageIds, snapshotIds, s3Uris);
  }

  /** Every image in the watched namespaces, including those being deleted (their cleaner is still at work). */
  private List<NixekMachineImage> liveImages() {
    var images = client.resources(NixekMachineImage.class);
    if (config.watchNamespaces().isEmpty()) {
      return images.inAnyNamespace().list().getItems();
    }
    List<NixekMachineImage> all = new ArrayList<>();
    for (String ns : config.watchNamespaces()) {
      all.addAll(images.inNamespace(ns).list().getItems());
    }
    return all;
  }

  private String defaultRegion() {
    try {
      return aws.defaultRegion();
    } catch (RuntimeException e) {
      return "";
    }
  }

  private static void addIfSet(Set<String> into, String value) {
    if (value != null) {
      into.add(value);
    }
  }
}
