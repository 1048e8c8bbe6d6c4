package dev.nixek.ci.operator.aws;

/**
 * Tags on the import task, snapshot and AMI of a machine image. The collector finds this cluster's resources by
 * {@link #CLUSTER_ID} and decides by {@link #IMAGE_HASH} whether a live NixekMachineImage still needs them.
 * Keys and values match the ec2 provider's instance tags.
 */
public final class ImageTags {
  /** The image's identity (full SHA-256 hex). */
  public static final String IMAGE_HASH = "nixek.dev/image-hash";
  /** Which operator installation made it: the collector only ever looks at its own cluster's resources. */
  public static final String CLUSTER_ID = "nixek.dev/cluster-id";
  public static final String MANAGED_BY = "nixek.dev/managed-by";
  public static final String MANAGED_BY_VALUE = "nixek-ci";
  /** The NixekMachineImage (namespace/name) that made it, for people looking at the console. */
  public static final String SOURCE = "nixek.dev/image";
  public static final String NAME = "Name";

  private ImageTags() {}
}
