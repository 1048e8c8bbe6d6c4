package dev.nixek.ci.operator.aws;

/**
 * The tags nixek-ci puts on what it makes in EC2: the ec2 provider on every instance and its volumes (docs/ec2.md#launch),
 * the images on their import task, snapshot and AMI (docs/images.md). Both collectors find this cluster's resources
 * by {@link #CLUSTER_ID} and {@link #MANAGED_BY}.
 */
public final class Ec2Tags {
  /** Which operator installation made it: a collector only ever looks at its own cluster's resources. */
  public static final String CLUSTER_ID = "nixek.dev/cluster-id";
  public static final String MANAGED_BY = "nixek.dev/managed-by";
  public static final String MANAGED_BY_VALUE = "nixek-ci";
  /** For people looking at the console. */
  public static final String NAME = "Name";

  // instances and volumes
  public static final String JOB_UID = "nixek.dev/job-uid";
  public static final String JOB_NAMESPACE = "nixek.dev/job-namespace";
  public static final String JOB_NAME = "nixek.dev/job-name";

  // import tasks, snapshots, AMIs
  /** The image's identity (full SHA-256 hex): the image collector keeps what a live image of it needs. */
  public static final String IMAGE_HASH = "nixek.dev/image-hash";
  /** The NixekMachineImage (namespace/name) that made it, for people looking at the console. */
  public static final String IMAGE = "nixek.dev/image";
  /** The image's trust domain ({@code namespace/<ns>} or {@code cluster}): whose builds may use the AMI. */
  public static final String TRUST_DOMAIN = "nixek.dev/trust-domain";

  private Ec2Tags() {}
}
