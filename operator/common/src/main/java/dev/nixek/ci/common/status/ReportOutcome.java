package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import java.util.List;

/** What applying one agent report to a job's steps comes to. */
public sealed interface ReportOutcome {
  /** The report changes the steps: write {@code steps}. */
  record Applied(List<NixekStepStatus> steps) implements ReportOutcome {}

  /** The report was applied before (a replay): nothing to write, acknowledge it. */
  record Duplicate() implements ReportOutcome {}

  /** The report is refused with this HTTP status; nothing changes. */
  record Rejected(int httpStatus, String error, String message) implements ReportOutcome {
    static Rejected notFound(String message) {
      return new Rejected(404, "unknown_step", message);
    }

    static Rejected conflict(String message) {
      return new Rejected(409, "conflict", message);
    }

    static Rejected invalid(String message) {
      return new Rejected(422, "invalid_report", message);
    }
  }
}
