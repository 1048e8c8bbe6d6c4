package dev.nixek.ci.common.status;

/**
 * The two writers of nixek-ci status, told apart by their server-side-apply field managers: the operator owns every
 * status field but a job's {@code steps} and {@code evaluation}, which the report API owns (docs/architecture.md,
 * "Who writes what").
 */
public final class FieldManagers {
  /** The operator's field manager, for both kinds. */
  public static final String OPERATOR = "nixek-operator";
  /** The report API's default field manager ({@code NIXEK_REPORT_FIELD_MANAGER}). */
  public static final String REPORT_API = "nixek-report-api";

  private FieldManagers() {}
}
