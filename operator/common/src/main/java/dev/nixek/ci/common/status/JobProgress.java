package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import java.util.List;
import java.util.Optional;

/** What the steps say about the job as a whole. */
public final class JobProgress {
  private JobProgress() {}

  /** "n/total": the running step (1-based), else the number of steps finished. */
  public static String currentStep(List<NixekStepStatus> steps, int total) {
    if (steps == null) {
      return "0/" + total;
    }
    int done = 0;
    for (int i = 0; i < steps.size(); i++) {
      State s = steps.get(i).state;
      if (s == State.Running) {
        return (i + 1) + "/" + total;
      }
      if (s == State.Succeeded || s == State.Failed) {
        done = i + 1;
      }
    }
    return done + "/" + total;
  }

  /** The index of the first failed step, if any. */
  public static Optional<Integer> firstFailed(List<NixekStepStatus> steps) {
    if (steps != null) {
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).state == State.Failed) {
          return Optional.of(i);
        }
      }
    }
    return Optional.empty();
  }

  /** Whether all {@code total} steps succeeded. */
  public static boolean allSucceeded(List<NixekStepStatus> steps, int total) {
    return steps != null && steps.size() == total && steps.stream().allMatch(s -> s.state == State.Succeeded);
  }

  /** Whether the agent has reported anything at all. */
  public static boolean anyReported(List<NixekStepStatus> steps) {
    return steps != null && steps.stream().anyMatch(s -> s.state != State.Pending);
  }
}
