package dev.nixek.ci.operator.forge;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekForgeStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The commit status a job of a repository should show now (docs/repositories.md#commit-statuses): {@code pending}
 * until its {@code Succeeded} condition is True or False, then {@code success} (it succeeded), {@code failure} (a
 * step failed: the step and its exit code) or {@code error} (anything else that ended it: cancelled, timed out, the
 * machine lost…, with the reason and message), under context {@code nixek-ci/<job>}.
 */
public final class JobCommitStatus {
  private JobCommitStatus() {}

  /** A job's commit and the status it should show; empty for a job no repository made. */
  public record Desired(String commit, CommitStatus status) {}

  public static Optional<Desired> of(NixekJob job) {
    Map<String, String> annotations = job.getMetadata().getAnnotations();
    Map<String, String> labels = job.getMetadata().getLabels();
    if (labels == null || labels.get(RepositoryJobs.REPOSITORY_LABEL) == null || annotations == null) {
      return Optional.empty();
    }
    String commit = annotations.get(RepositoryJobs.COMMIT_ANNOTATION);
    if (commit == null || !commit.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      return Optional.empty();
    }
    String jobName = annotations.getOrDefault(RepositoryJobs.JOB_ANNOTATION, job.getMetadata().getName());
    String context = CommitStatus.CONTEXT_PREFIX + jobName;
    Optional<Condition> succeeded = job.getStatus() == null ? Optional.empty()
        : Conditions.find(job.getStatus().conditions, Conditions.SUCCEEDED);
    if (succeeded.isEmpty() || !Conditions.isTerminal(job.getStatus())) {
      return Optional.of(new Desired(commit, new CommitStatus(CommitStatus.PENDING, "nixek-ci job "
          + job.getMetadata().getName(), context, null)));
    }
    Condition c = succeeded.get();
    if (Conditions.TRUE.equals(c.getStatus())) {
      return Optional.of(new Desired(commit, new CommitStatus(CommitStatus.SUCCESS, succeeded(job), context, null)));
    }
    if (ConditionReason.StepFailed.name().equals(c.getReason())) {
      return Optional.of(new Desired(commit, new CommitStatus(CommitStatus.FAILURE, failedStep(job, c), context,
          null)));
    }
    String message = c.getMessage() == null || c.getMessage().isBlank() ? "" : ": " + c.getMessage();
    return Optional.of(new Desired(commit, new CommitStatus(CommitStatus.ERROR, c.getReason() + message, context,
        null)));
  }

  /** Whether {@code posted} (status.forgeStatus) is already {@code status}. */
  public static boolean same(NixekForgeStatus posted, CommitStatus status) {
    return posted != null && Objects.equals(posted.state, status.state())
        && Objects.equals(posted.description, status.description())
        && Objects.equals(posted.context, status.context());
  }

  private static String succeeded(NixekJob job) {
    int steps = job.getStatus().steps == null ? 0 : job.getStatus().steps.size();
    return steps == 1 ? "the step succeeded" : "all " + steps + " steps succeeded";
  }

  private static String failedStep(NixekJob job, Condition c) {
    if (job.getStatus().steps != null) {
      for (NixekStepStatus s : job.getStatus().steps) {
        if (s.state == NixekStepStatus.State.Failed) {
          String what = Boolean.TRUE.equals(s.timedOut) ? " timed out (exit code " + s.exitCode + ")"
              : " failed with exit code " + s.exitCode;
          return "step " + StepNames.quote(s.name) + what;
        }
      }
    }
    return c.getMessage() == null ? "a step failed" : c.getMessage();
  }
}
