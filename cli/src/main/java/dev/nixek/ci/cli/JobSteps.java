package dev.nixek.ci.cli;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's step names as the user sees them: {@code spec.steps}, or a Nix job's {@code status.evaluation.steps} once
 * evaluated, else the names in {@code status.steps}. Empty while a Nix job is not evaluated.
 */
final class JobSteps {
  private JobSteps() {}

  static List<String> names(NixekJob job) {
    List<String> out = new ArrayList<>();
    List<NixekJobStep> declared = job.getSpec() != null && job.getSpec().steps != null && !job.getSpec().steps
        .isEmpty() ? job.getSpec().steps
        : job.getStatus() != null && job.getStatus().evaluation != null ? job.getStatus().evaluation.steps : null;
    if (declared != null) {
      declared.forEach(s -> out.add(s.name));
      return out;
    }
    if (job.getStatus() != null && job.getStatus().steps != null) {
      for (NixekStepStatus s : job.getStatus().steps) {
        out.add(s.name);
      }
    }
    return out;
  }

  /** STEP as the user wrote it (a name, or an index from 0) → its index; -1 when the job has no such step. */
  static int index(List<String> names, String step) {
    int byName = names.indexOf(step);
    if (byName >= 0) {
      return byName;
    }
    if (step.matches("[0-9]{1,4}")) {
      int i = Integer.parseInt(step);
      return i < names.size() ? i : -1;
    }
    return -1;
  }
}
