package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekAgentEnded;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import java.util.List;

/** What applying one report (an agent's step report, an evaluation pod's result) to a job comes to. */
public sealed interface ReportOutcome {
  /**
   * The report changes the job: write each of the report API's status fields that is not null — {@code steps},
   * {@code evaluation}, {@code agentEnded}.
   */
  record Applied(List<NixekStepStatus> steps, NixekJobEvaluation evaluation, NixekAgentEnded agentEnded)
      implements ReportOutcome {
    public Applied(List<NixekStepStatus> steps) {
      this(steps, null, null);
    }

    public Applied(List<NixekStepStatus> steps, NixekJobEvaluation evaluation) {
      this(steps, evaluation, null);
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
