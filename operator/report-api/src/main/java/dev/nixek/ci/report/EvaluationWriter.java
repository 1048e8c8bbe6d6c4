package dev.nixek.ci.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.common.job.JobForm;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * Records a job's evaluation in {@code status.evaluation} (blocking: it reads and patches the job), with the same
 * read-modify-write and resourceVersion precondition as the steps ({@link StepsWriter}). A job is evaluated once:
 * the same result again is a {@link Duplicate} (a retried post), another one a 409; the token is dead once the job is
 * gone, replaced or finished. The first write also sets {@code status.steps} to the evaluated steps, all Pending.
 * "The same" leaves out {@code nixVersion}: see {@link #same}.
 */
final class EvaluationWriter {
  private final StepsWriter writer;
  private final ApiHealth health;

  EvaluationWriter(StepsWriter writer, ApiHealth health) {
    this.writer = writer;
    this.health = health;
  }

  ReportOutcome write(TokenRecord token, NixekJobEvaluation evaluation) {
    ReportOutcome outcome = writer.update(token.namespace(), token.jobName(),
        job -> token.supersededIn(job).<ReportOutcome>map(r -> r)
            .orElseGet(() -> decide(job, token.jobUid(), evaluation)));
    health.reachable();
    return outcome;
  }

  /** What recording {@code evaluation} comes to on this job (null: gone); pure. */
  static ReportOutcome decide(NixekJob job, String tokenJobUid, NixekJobEvaluation evaluation) {
    if (job == null) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job of this token no longer exists");
    }
    if (job.getMetadata() == null || !tokenJobUid.equals(job.getMetadata().getUid())) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED,
          "the job of this token was deleted (a job of the same name replaced it)");
    }
    if (!JobForm.needsEvaluation(job.getSpec())) {
      return Rejected.conflict("the job is not written in Nix (spec.nix or spec.flake): it has nothing to evaluate");
    }
    NixekJobEvaluation recorded = job.getStatus() == null ? null : job.getStatus().evaluation;
    if (recorded != null) {
      return same(recorded, evaluation) ? new Duplicate()
          : Rejected.conflict("the job's evaluation is already recorded, and differs from this one");
    }
    if (Conditions.isTerminal(job.getStatus())) {
      return new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job has finished; its evaluation token is dead");
    }
    boolean stepsWritten = job.getStatus() != null && job.getStatus().steps != null;
    return new Applied(stepsWritten ? null : StepReports.initial(evaluation.steps), evaluation);
  }

  /**
   * Same steps and machine. The Nix version is provenance, not part of the result: a replacement evaluation pod of a
   * newer image that evaluates the same is a duplicate, and the first recorded version stays.
   */
  private static boolean same(NixekJobEvaluation a, NixekJobEvaluation b) {
    return tree(a).equals(tree(b));
  }

  private static JsonNode tree(NixekJobEvaluation e) {
    ObjectNode tree = Serialization.jsonMapper().valueToTree(e);
    tree.remove("nixVersion");
    return tree;
  }
}
