package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.aws.Ec2Tags;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every name derived from an image's identity: deterministic, so that a retried or restarted reconcile, or a
 * second image of the same identity, finds what the first made instead of making another.
 */
public final class ImageNames {
  private ImageNames() {}

  /** The NixekMachineImage a job's inline machine resolves to (in the job's namespace). */
  public static String inlineImage(ImageIdentity id) {
    return "nixek-" + id.shortHash();
  }

  /**
   * The builder pod and its ConfigMap. Per identity and destination: images of one identity in one namespace
   * share the build; one uploading elsewhere (another region or bucket) gets its own.
   */
  public static String builder(ImageIdentity id, String region, String bucket) {
    return "nixek-build-" + ImageIdentity.sha256(id.hash() + "\n" + region + "\n" + bucket).substring(0, 32);
  }

  /**
   * The AMI's name: unique per cluster and identity (at most 6 + 63 + 1 + 32 = 102 of the allowed 128). The identity
   * includes the trust domain, so a namespace's name lookup never finds another namespace's AMI (a namespace does
   * not fit the 128 characters next to a cluster id and a hash; the tag {@link Ec2Tags#TRUST_DOMAIN} names it).
   */
  public static String ami(String clusterId, ImageIdentity id) {
    return "nixek-" + clusterId + "-" + id.shortHash();
  }

  /** The S3 key prefix handed to the builder; it appends {@code /<identity>/<image file>}. */
  public static String keyPrefix(String prefix, String clusterId) {
    return prefix + "/" + clusterId;
  }

  /** The prefix of every S3 key of this identity. */
  public static String objectPrefix(String prefix, String clusterId, ImageIdentity id) {
    return keyPrefix(prefix, clusterId) + "/" + id.hash() + "/";
  }

  /**
   * ImportSnapshot's ClientToken (at most 64 ASCII characters): the same cluster, identity, region, object and
   * attempt give the same token, so a retried call after a crash returns the task of the first; a new attempt
   * (after a failed import and a spec change) or another object gives a new task.
   */
  public static String importToken(String clusterId, ImageIdentity id, String region, String s3Uri, int attempt) {
    return "nixek-" + ImageIdentity.sha256(String.join("\n", clusterId, id.hash(), region, s3Uri,
        Integer.toString(attempt))).substring(0, 48);
  }

  /** The tags of what AWS makes for an image (import task, snapshot, AMI): the collector finds them by these. */
  static Map<String, String> tags(String clusterId, NixekMachineImage image, ImageTarget t) {
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(Ec2Tags.NAME, t.amiName());
    tags.put(Ec2Tags.IMAGE_HASH, t.id().hash());
    tags.put(Ec2Tags.CLUSTER_ID, clusterId);
    tags.put(Ec2Tags.MANAGED_BY, Ec2Tags.MANAGED_BY_VALUE);
    tags.put(Ec2Tags.IMAGE, image.getMetadata().getNamespace() + "/" + image.getMetadata().getName());
    tags.put(Ec2Tags.TRUST_DOMAIN, t.id().trustDomain().isEmpty() ? "cluster" : t.id().trustDomain());
    return tags;
  }
}
