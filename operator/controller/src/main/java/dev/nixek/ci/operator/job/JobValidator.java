package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a job's spec before anything is launched. The CRD schema rejects most of this already; this catches what
 * reaches the operator anyway (an API server without the schema, an older CRD) with the same field names.
 */
public final class JobValidator {
  /** The first problem found: which field, and what is wrong with it. */
  public record SpecError(String field, String problem) {
    public String message() {
      return field + ": " + problem;
    }
  }

  private JobValidator() {}

  public static Optional<SpecError> validate(NixekJobSpec spec) {
    if (spec == null) {
      return err("spec", "is required");
    }
    boolean hasImage = spec.machineImageName != null && !spec.machineImageName.isBlank();
    boolean hasMachine = spec.machine != null && !spec.machine.isBlank();
    if (!hasImage && !hasMachine) {
      return err("spec.machineImageName", "a machine is required: set spec.machineImageName or spec.machine");
    }
    if (hasImage && hasMachine) {
      return err("spec.machine", "set only one of spec.machineImageName and spec.machine");
    }
    if (spec.timeoutSeconds != null && spec.timeoutSeconds < 1) {
      return err("spec.timeoutSeconds", "must be at least 1");
    }
    List<NixekJobStep> steps = spec.steps;
    if (steps == null || steps.isEmpty()) {
      return err("spec.steps", "at least one step is required");
    }
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      NixekJobStep s = steps.get(i);
      String at = "spec.steps[" + i + "]";
      if (s == null) {
        return err(at, "is empty");
      }
      if (s.name == null || s.name.isBlank()) {
        return err(at + ".name", "is required");
      }
      Integer first = seen.putIfAbsent(s.name, i);
      if (first != null) {
        return err(at + ".name", "duplicate step name '" + s.name + "' (also spec.steps[" + first + "])");
      }
      boolean hasRun = s.run != null;
      boolean hasCommand = s.command != null;
      if (hasRun && hasCommand) {
        return err(at, "step '" + s.name + "' has both run and command; set exactly one");
      }
      if (!hasRun && !hasCommand) {
        return err(at, "step '" + s.name + "' has neither run nor command; set exactly one");
      }
      if (hasRun && s.run.isBlank()) {
        return err(at + ".run", "is empty");
      }
      if (hasCommand && (s.command.isEmpty() || s.command.get(0) == null || s.command.get(0).isEmpty())) {
        return err(at + ".command", "needs at least a program");
      }
      if (s.timeoutSeconds != null && s.timeoutSeconds < 1) {
        return err(at + ".timeoutSeconds", "must be at least 1");
      }
    }
    return Optional.empty();
  }

  private static Optional<SpecError> err(String field, String problem) {
    return Optional.of(new SpecError(field, problem));
  }
}
