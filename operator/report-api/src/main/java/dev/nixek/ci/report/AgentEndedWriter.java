package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekAgentEnded;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.common.text.ControlChars;
import dev.nixek.ci.protocol.AgentEnded;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * Records why the agent stopped a job early in {@code status.agentEnded} (blocking; the same read-modify-write as the
 * steps, {@link StepsWriter}). Written once: the same report again is a {@link Duplicate} (a retried post), another a
 * 409. Like every step report it needs the job's current step token and a job that has not ended: once the operator
 * has ended the job, the condition no longer changes, so the report would say nothing to anyone (401).
 */
final class AgentEndedWriter {
  private final StepsWriter writer;
  private final ApiHealth health;

  AgentEndedWriter(StepsWriter writer, ApiHealth health) {
    this.writer = writer;
    this.health = health;
  }

  ReportOutcome write(TokenRecord token, AgentEnded report) {
    ReportOutcome outcome = writer.update(token.namespace(), token.jobName(),
        job -> token.supersededIn(job).<ReportOutcome>map(r -> r)
            .orElseGet(() -> decide(job, token.jobUid(), report)));
    health.reachable();
    return outcome;
  }

  /** What recording {@code report} comes to on this job (null: gone); pure. */
  static ReportOutcome decide(NixekJob job, String tokenJobUid, AgentEnded report) {
    if (job == null) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job of this token no longer exists");
    }
    if (job.getMetadata() == null || !tokenJobUid.equals(job.getMetadata().getUid())) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED,
          "the job of this token was deleted (a job of the same name replaced it)");
    }
    Rejected invalid = check(report);
    if (invalid != null) {
      return invalid;
    }
    NixekAgentEnded wanted = recorded(report);
    NixekAgentEnded recorded = job.getStatus() == null ? null : job.getStatus().agentEnded;
    if (recorded != null) {
      return same(recorded, wanted) ? new Duplicate()
          : Rejected.conflict("the agent's end is already recorded, and differs from this one");
    }
    if (Conditions.isTerminal(job.getStatus())) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job has finished; its token no longer accepts reports");
    }
    return new Applied(null, null, wanted);
  }

  /** 422 for a report that cannot be right whatever the job's state. */
  static Rejected check(AgentEnded report) {
    if (report.exitCode() < 1 || report.exitCode() > 255) {
      return Rejected.invalid("exitCode must be an agent's non-zero exit code, 1..255");
    }
    if (report.reason() == null || report.reason().isBlank()) {
      return Rejected.invalid("reason is required");
    }
    if (report.time() == null) {
      return Rejected.invalid("time must be an RFC 3339 timestamp");
    }
    try {
      Instant.parse(report.time());
    } catch (DateTimeParseException e) {
      return Rejected.invalid("time must be an RFC 3339 timestamp");
    }
    return null;
  }

  /** The status field: the reason on one line with control characters escaped, then cut to its bound (never refused for length). */
  static NixekAgentEnded recorded(AgentEnded report) {
    // one line: the job's condition message quotes it
    String reason = ControlChars.escapeAll(report.reason());
    if (reason.length() > AgentEnded.MAX_REASON) {
      int cut = AgentEnded.MAX_REASON - 3;
      if (Character.isHighSurrogate(reason.charAt(cut - 1))) {
        cut--;
      }
      reason = reason.substring(0, cut) + "...";
    }
    NixekAgentEnded e = new NixekAgentEnded();
    e.exitCode = report.exitCode();
    e.reason = reason;
    e.time = report.time();
    return e;
  }

  private static boolean same(NixekAgentEnded a, NixekAgentEnded b) {
    return Objects.equals(a.exitCode, b.exitCode) && Objects.equals(a.reason, b.reason)
        && Objects.equals(a.time, b.time);
  }
}
