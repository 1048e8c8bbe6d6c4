package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import java.util.ArrayList;
import java.util.List;

/**
 * The steps a job runs, whatever its form: {@code spec.steps} for the explicit form, {@code status.evaluation.steps}
 * for jobs written in Nix ({@code spec.nix}, {@code spec.flake}) once their evaluation is recorded. The operator, the
 * report API and the step-report rules all ask here, so that they never disagree about which steps there are. A job
 * with {@code spec.source} has a {@link CheckoutStep} first (index 0), before its own steps.
 */
public final class EffectiveSteps {
  private EffectiveSteps() {}

  /** The job's steps; null while a Nix job is not evaluated yet (or when the spec has no form). */
  public static List<NixekJobStep> of(NixekJob job) {
    if (job == null || job.getSpec() == null) {
      return null;
    }
    var form = JobForm.of(job.getSpec());
    if (form.isEmpty()) {
      return null;
    }
    List<NixekJobStep> own;
    if (!form.get().evaluated()) {
      own = job.getSpec().steps;
    } else {
      own = job.getStatus() == null || job.getStatus().evaluation == null ? null : job.getStatus().evaluation.steps;
    }
    if (own == null || job.getSpec().source == null) {
      return own;
    }
    List<NixekJobStep> all = new ArrayList<>(own.size() + 1);
    all.add(CheckoutStep.of(job.getSpec().source));
    all.addAll(own);
    return all;
  }

  /** The job's steps, or an empty list while there are none yet. */
  public static List<NixekJobStep> orEmpty(NixekJob job) {
    List<NixekJobStep> steps = of(job);
    return steps == null ? List.of() : steps;
  }

  /** Whether a Nix job's evaluation is recorded (always true for the explicit form). */
  public static boolean known(NixekJob job) {
    return of(job) != null;
  }
}
