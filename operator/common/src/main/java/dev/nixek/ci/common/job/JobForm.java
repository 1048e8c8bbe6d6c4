package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import java.util.Optional;

/** The three ways a job can be written (docs/evaluation.md#forms). */
public enum JobForm {
  /** {@code spec.nix}: the whole job as a Nix expression, evaluated in an evaluation pod. */
  NIX,
  /** {@code spec.flake}: a job of a flake at a pinned revision, evaluated in an evaluation pod. */
  FLAKE,
  /** {@code spec.steps} with {@code spec.machineImageName} or {@code spec.machine}: nothing to evaluate. */
  STEPS;

  /** The form of {@code spec}; empty when it has none or more than one (an invalid spec). */
  public static Optional<JobForm> of(NixekJobSpec spec) {
    if (spec == null) {
      return Optional.empty();
    }
    int given = (spec.nix != null ? 1 : 0) + (spec.flake != null ? 1 : 0) + (spec.steps != null ? 1 : 0);
    if (given != 1) {
      return Optional.empty();
    }
    return Optional.of(spec.nix != null ? NIX : spec.flake != null ? FLAKE : STEPS);
  }

  /** Whether jobs of this form are evaluated before they run. */
  public boolean evaluated() {
    return this != STEPS;
  }

  /** Whether {@code spec} is of a form that is evaluated before it runs. */
  public static boolean needsEvaluation(NixekJobSpec spec) {
    return of(spec).map(JobForm::evaluated).orElse(false);
  }
}
