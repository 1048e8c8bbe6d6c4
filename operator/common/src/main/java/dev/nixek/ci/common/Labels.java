package dev.nixek.ci.common;

/** Label and annotation keys nixek-ci puts on the objects it creates. */
public final class Labels {
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "nixek-ci";
  public static final String COMPONENT = "app.kubernetes.io/component";
  /** The component label value of a job's token Secret. */
  public static final String COMPONENT_JOB_TOKEN = "job-token";
  /** The UID of the job an object belongs to (names can be 253 characters; label values only 63). */
  public static final String JOB_UID = "ci.nixek.dev/job-uid";
  /** The job's name, as an annotation (it may be longer than a label value). */
  public static final String JOB_NAME_ANNOTATION = "ci.nixek.dev/job-name";
  /** What a token record's token may be used for ({@code JobTokens.Purpose#label()}); absent means steps. */
  public static final String TOKEN_PURPOSE = "ci.nixek.dev/token-purpose";
  /** The component label value of a job's evaluation pod, its ConfigMap and its evaluation-token Secret. */
  public static final String COMPONENT_EVALUATION = "job-evaluation";
  /** The lookup id of a token: the first 128 bits of its SHA-256, so the report API can find its Secret. */
  public static final String TOKEN_ID = "ci.nixek.dev/token-id";

  private Labels() {}
}
