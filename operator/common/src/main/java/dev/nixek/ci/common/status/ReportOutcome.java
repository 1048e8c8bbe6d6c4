package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import java.util.List;

/** What applying one report (an agent's step report, an evaluation pod's result) to a job comes to. */
public sealed interface ReportOutcome {
  /**
   * The report changes the job: write {@code steps} and, when not null, {@code evaluation} (the report API's two
   * status fields). {@code steps} may be null only with an evaluation.
   */
  record Applied(List<NixekStepStatus> steps, NixekJobEvaluation evaluation) implements ReportOutcome {
    public Applied(List<NixekStepStatus> steps) {
      this(steps, null);
    }
  }

  /** The report was applied before (a replay): nothing to write, acknowledge it. */
  record Duplicate() implements ReportOutcome {}

  /** The report is refused with this HTTP status; nothing changes. */
  record Rejected(int httpStatus, String error, String message) implements ReportOutcome {
    static Rejected notFound(String message) {
      return new Rejected(404, "unknown_step", message);
    }

    public static Rejected conflict(String message) {
      return new Rejected(409, "conflict", message);
    }

    public static Rejected invalid(String message) {
      return new Rejected(422, "invalid_report", message);
    }
  }
}
