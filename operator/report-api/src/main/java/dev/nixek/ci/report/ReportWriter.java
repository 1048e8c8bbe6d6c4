package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.OutputTail;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepsWriter;
import java.util.List;

/**
 * Applies one authenticated report to its job's {@code status.steps} (blocking: it reads and patches the job). A
 * token is dead once its job is gone, was replaced by another job of the same name, or has ended (docs/architecture.md#token-protocol); a
 * report that would change nothing on a finished job (a replay) is still acknowledged.
 */
final class ReportWriter {
  static final String TOKEN_REVOKED = "token_revoked";

  private final StepsWriter writer;
  private final int tailBytes;
  private final int tailBudgetBytes;
  private final ApiHealth health;

  ReportWriter(StepsWriter writer, int tailBytes, int tailBudgetBytes, ApiHealth health) {
    this.writer = writer;
    this.tailBytes = tailBytes;
    this.tailBudgetBytes = tailBudgetBytes;
    this.health = health;
  }

  /** Reads, decides and (if the report changes something) writes; returns once the write stuck. */
  <T> ReportOutcome write(TokenRecord token, int index, T report, StepChange<T> change) {
    ReportOutcome outcome = writer.update(token.namespace(), token.jobName(),
        job -> token.supersededIn(job).<ReportOutcome>map(r -> r)
            .orElseGet(() -> decide(job, token.jobUid(), index, report, change, tailBytes, tailBudgetBytes)));
    health.reachable();
    return outcome;
  }

  /** What the report comes to on this job (null: gone); pure, as {@link StepsWriter} may call it again. */
  static <T> ReportOutcome decide(NixekJob job, String tokenJobUid, int index, T report, StepChange<T> change,
      int tailBytes, int tailBudgetBytes) {
    if (job == null) {
      return new Rejected(401, TOKEN_REVOKED, "the job of this token no longer exists");
    }
    if (job.getMetadata() == null || !tokenJobUid.equals(job.getMetadata().getUid())) {
      return new Rejected(401, TOKEN_REVOKED, "the job of this token was deleted (a job of the same name replaced it)");
    }
    // the job's steps whatever its form: spec.steps, or the recorded evaluation's
    List<NixekJobStep> spec = EffectiveSteps.orEmpty(job);
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    int tailLimit = OutputTail.limitFor(spec.size(), tailBytes, tailBudgetBytes);
    // StepReports works on copies, so applying to a finished job only tells whether the report is a replay
    ReportOutcome outcome = change.apply(spec, steps, index, report, tailLimit);
    if (Conditions.isTerminal(job.getStatus()) && !(outcome instanceof Duplicate)) {
      return new Rejected(401, TOKEN_REVOKED, "the job has finished; its token no longer accepts reports");
    }
    return outcome;
  }
}
