package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.operator.config.JobLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks a job's spec before anything is evaluated or launched. The CRD schema rejects most of this already; this
 * catches what reaches the operator anyway (an API server without the schema, an older CRD) with the same field
 * names. The steps of a job written in Nix are checked when their evaluation is recorded (by the report API, with the
 * same {@link StepRules}).
 */
public final class JobValidator {
  /** The first problem found: which field, and what is wrong with it. */
  public record SpecError(String field, String problem) {
    public String message() {
      return field + ": " + problem;
    }
  }

  static final int MAX_NIX_CHARS = 65536;

  private JobValidator() {}

  /**
   * The first problem of {@code spec}, for a job named {@code name}, under the installation's {@code limits}: what a
   * job may cost is checked after its shape, so an invalid spec is reported as such first.
   */
  public static Optional<SpecError> validate(NixekJobSpec spec, String name, JobLimits limits) {
    Optional<SpecError> e = validate(spec, name);
    if (e.isPresent()) {
      return e;
    }
    if (spec.instanceType != null && !limits.allows(spec.instanceType)) {
      return err("spec.instanceType", "'" + spec.instanceType + "' is not allowed by this installation (allowed: "
          + limits.describeAllowed() + "; NIXEK_EC2_ALLOWED_INSTANCE_TYPES)");
    }
    if (spec.timeoutSeconds != null && spec.timeoutSeconds > limits.maxJobTimeout().toSeconds()) {
      return err("spec.timeoutSeconds", spec.timeoutSeconds + " is more than this installation's maximum of "
          + limits.maxJobTimeout().toSeconds() + " (NIXEK_MAX_JOB_TIMEOUT_SECONDS)");
    }
    return Optional.empty();
  }

  /** The first problem of {@code spec}, for a job named {@code name}. */
  public static Optional<SpecError> validate(NixekJobSpec spec, String name) {
    Optional<SpecError> e = validate(spec);
    if (e.isPresent() || spec.flake == null || spec.flake.attribute != null) {
      return e;
    }
    if (name != null && name.contains(".")) {
      return err("spec.flake.attribute", "is required for a job whose name contains '.' (the default, ci.jobs."
          + name + ", would be read as a longer attribute path)");
    }
    return Optional.empty();
  }

  public static Optional<SpecError> validate(NixekJobSpec spec) {
    if (spec == null) {
      return err("spec", "is required");
    }
    List<String> forms = new ArrayList<>();
    if (spec.nix != null) {
      forms.add("spec.nix");
    }
    if (spec.flake != null) {
      forms.add("spec.flake");
    }
    if (spec.steps != null) {
      forms.add("spec.steps");
    }
    if (forms.size() > 1) {
      return err(forms.get(1), "set only one of spec.nix, spec.flake and spec.steps (also " + forms.get(0) + ")");
    }
    if (spec.timeoutSeconds != null && spec.timeoutSeconds < 1) {
      return err("spec.timeoutSeconds", "must be at least 1");
    }
    var secrets = dev.nixek.ci.common.secrets.SecretUses.validate(spec.secrets, "spec.secrets");
    if (secrets.isPresent()) {
      return err(secrets.get().field(), secrets.get().problem());
    }
    if (spec.source != null) {
      Optional<String> url = dev.nixek.ci.common.job.SourceUrlRules.problem(spec.source.url);
      if (url.isPresent()) {
        return err("spec.source.url", url.get());
      }
    }
    boolean hasImage = spec.machineImageName != null && !spec.machineImageName.isBlank();
    boolean hasMachine = spec.machine != null && !spec.machine.isBlank();
    if (spec.nix != null || spec.flake != null) {
      String form = forms.get(0);
      if (hasImage) {
        return err("spec.machineImageName", "not used with " + form + ": the job's Nix expression names its machine");
      }
      if (hasMachine) {
        return err("spec.machine", "not used with " + form + ": the job's Nix expression names its machine");
      }
      return spec.nix != null ? validateNix(spec.nix) : validateFlake(spec.flake);
    }
    if (!hasImage && !hasMachine) {
      if (spec.steps == null) {
        return err("spec", "a job needs spec.nix, spec.flake, or spec.steps with spec.machineImageName or "
            + "spec.machine");
      }
      return err("spec.machineImageName", "a machine is required: set spec.machineImageName or spec.machine");
    }
    if (hasImage && hasMachine) {
      return err("spec.machine", "set only one of spec.machineImageName and spec.machine");
    }
    return StepRules.validate(spec.steps, "spec.steps").map(p -> new SpecError(p.field(), p.problem()));
  }

  private static Optional<SpecError> validateNix(String nix) {
    if (nix.isBlank()) {
      return err("spec.nix", "is empty: the job as a Nix expression is required");
    }
    if (nix.length() > MAX_NIX_CHARS) {
      return err("spec.nix", "is longer than " + MAX_NIX_CHARS + " characters");
    }
    return Optional.empty();
  }

  private static Optional<SpecError> validateFlake(NixekJobFlake flake) {
    return FlakeRules.problem(flake, "spec.flake", false).map(p -> new SpecError(p.field(), p.problem()));
  }

  private static Optional<SpecError> err(String field, String problem) {
    return Optional.of(new SpecError(field, problem));
  }
}
