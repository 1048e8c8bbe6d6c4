package dev.nixek.ci.operator.aws;

/** The tags the ec2 provider puts on every instance and volume it launches (DESIGN §6). */
public final class Ec2Tags {
  public static final String JOB_UID = "nixek.dev/job-uid";
  public static final String JOB_NAMESPACE = "nixek.dev/job-namespace";
  public static final String JOB_NAME = "nixek.dev/job-name";
  /** Which operator installation launched it: the collector only ever looks at its own cluster's instances. */
  public static final String CLUSTER_ID = "nixek.dev/cluster-id";
  public static final String MANAGED_BY = "nixek.dev/managed-by";
  public static final String MANAGED_BY_VALUE = "nixek-ci";
  /** For people looking at the console. */
  public static final String NAME = "Name";

  private Ec2Tags() {}
}
