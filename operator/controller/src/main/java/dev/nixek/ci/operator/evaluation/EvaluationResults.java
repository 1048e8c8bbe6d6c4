package dev.nixek.ci.operator.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.pod.PodOutcome;
import dev.nixek.ci.operator.pod.PodStalls;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Optional;

/**
 * What an evaluation pod says. The result itself never comes this way (a termination message holds 4 KiB; the pod
 * posts the result to the report API); the pod tells whether it is still working, has ended, or failed — with the
 * error the {@code evaluate} command wrote (nix's own message and position), or, when it was killed before it could
 * write one, why Kubernetes killed it — and, while it is pending, why it does not start when Kubernetes says so.
 */
public final class EvaluationResults {
  static final int MAX_MESSAGE = 2048;

  /** An evaluation pod's state. */
  public sealed interface Outcome {
    /** Pending or running. */
    record Working(boolean started) implements Outcome {}

    /** Pending, and Kubernetes says why it does not start ({@link PodStalls}): "cannot be scheduled: …". */
    record Stalled(String why) implements Outcome {}

    /**
     * Reached its deadline without starting, and Kubernetes says why (its image cannot be pulled): not the
     * evaluation's failure — the pod is replaced, as long as the job lives.
     */
    record NeverStarted(String why) implements Outcome {}

    /** Exited 0: its result was posted (the job's status has it). */
    record Ended() implements Outcome {}

    /** Failed: why, for the job's condition. */
    record Failed(String message) implements Outcome {}
  }

  private EvaluationResults() {}

  public static Outcome of(Pod pod, EvaluationOptions options) {
    PodOutcome outcome = PodOutcome.of(pod, EvaluationPods.CONTAINER);
    if (outcome instanceof PodOutcome.Succeeded) {
      return new Outcome.Ended();
    }
    if (outcome instanceof PodOutcome.Working w) {
      Optional<String> stall = w.started() ? Optional.empty() : PodStalls.of(pod, EvaluationPods.CONTAINER);
      return stall.<Outcome>map(Outcome.Stalled::new).orElseGet(() -> new Outcome.Working(w.started()));
    }
    if (outcome instanceof PodOutcome.DeadlineExceeded d && d.container().isEmpty()) {
      // the deadline runs from the kubelet's taking the pod, so a pod that never started can reach it too
      Optional<String> stall = PodStalls.of(pod, EvaluationPods.CONTAINER);
      if (stall.isPresent()) {
        return new Outcome.NeverStarted("did not start within " + d.deadlineSeconds() + "s ("
            + EvaluationOptions.TIMEOUT.key() + "): it " + stall.get());
      }
    }
    if (outcome instanceof PodOutcome.DeadlineExceeded d) {
      return new Outcome.Failed("the evaluation ran longer than " + d.deadlineSeconds()
          + "s and was stopped (" + EvaluationOptions.TIMEOUT.key() + ")");
    }
    if (outcome instanceof PodOutcome.OomKilled) {
      String limit = options.memoryLimit().isEmpty() ? "the node's memory" : "its limit of " + options.memoryLimit();
      return new Outcome.Failed("the evaluation ran out of memory (" + limit + ", "
          + EvaluationOptions.MEMORY_LIMIT.key() + ") and was killed");
    }
    if (outcome instanceof PodOutcome.Vanished v) {
      return new Outcome.Failed("the evaluation pod failed" + (v.reason() == null ? "" : " (" + v.reason() + ")")
          + (v.message() == null || v.message().isBlank() ? "" : ": " + bound(v.message())));
    }
    return new Outcome.Failed(failure(((PodOutcome.Exited) outcome).container()));
  }

  /** The error the evaluate command wrote, or what stands in for it. */
  static String failure(ContainerStateTerminated t) {
    Optional<JsonNode> report = PodOutcome.errorReport(t);
    if (report.isPresent()) {
      return bound(report.get().get("error").asText());
    }
    // not the command's JSON: the kubelet's fallback, the end of the pod's log
    String message = t.getMessage();
    String tail = message == null ? "" : message.strip();
    return bound("the evaluation pod exited with code " + t.getExitCode()
        + (t.getReason() == null ? "" : " (" + t.getReason() + ")")
        + (tail.isEmpty() ? " without a message" : ": " + lastLines(tail)));
  }

  private static String lastLines(String text) {
    String[] lines = text.split("\n");
    int from = Math.max(0, lines.length - 5);
    return String.join(" | ", java.util.Arrays.copyOfRange(lines, from, lines.length));
  }

  private static String bound(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE - 1) + "…";
  }
}
