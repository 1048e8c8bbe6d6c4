package dev.nixek.ci.operator.evaluation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.operator.config.EvaluationOptions;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.util.Optional;

/**
 * What an evaluation pod says. The result itself never comes this way (a termination message holds 4 KiB; the pod
 * posts the result to the report API); the pod tells whether it is still working, has ended, or failed — with the
 * error the {@code evaluate} command wrote (nix's own message and position), or, when it was killed before it could
 * write one, why Kubernetes killed it.
 */
public final class EvaluationResults {
  static final int MAX_MESSAGE = 2048;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An evaluation pod's state. */
  public sealed interface Outcome {
    /** Pending or running. */
    record Working(boolean started) implements Outcome {}

    /** Exited 0: its result was posted (the job's status has it). */
    record Ended() implements Outcome {}

    /** Failed: why, for the job's condition. */
    record Failed(String message) implements Outcome {}
  }

  private EvaluationResults() {}

  public static Outcome of(Pod pod, EvaluationOptions options) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase)) {
      return new Outcome.Ended();
    }
    if (!"Failed".equals(phase)) {
      return new Outcome.Working("Running".equals(phase));
    }
    String podReason = pod.getStatus().getReason();
    if ("DeadlineExceeded".equals(podReason)) {
      return new Outcome.Failed("the evaluation ran longer than " + pod.getSpec().getActiveDeadlineSeconds()
          + "s and was stopped (" + EvaluationOptions.TIMEOUT.key() + ")");
    }
    Optional<ContainerStateTerminated> terminated = terminated(pod);
    if (terminated.isPresent() && "OOMKilled".equals(terminated.get().getReason())) {
      String limit = options.memoryLimit().isEmpty() ? "the node's memory" : "its limit of " + options.memoryLimit();
      return new Outcome.Failed("the evaluation ran out of memory (" + limit + ", "
          + EvaluationOptions.MEMORY_LIMIT.key() + ") and was killed");
    }
    if (terminated.isEmpty()) {
      String message = pod.getStatus().getMessage();
      return new Outcome.Failed("the evaluation pod failed" + (podReason == null ? "" : " (" + podReason + ")")
          + (message == null || message.isBlank() ? "" : ": " + bound(message)));
    }
    return new Outcome.Failed(failure(terminated.get()));
  }

  /** The error the evaluate command wrote, or what stands in for it. */
  static String failure(ContainerStateTerminated t) {
    String message = t.getMessage();
    try {
      JsonNode m = message == null || message.isBlank() ? null : JSON.readTree(message);
      if (m != null && m.isObject() && m.hasNonNull("error")) {
        return bound(m.get("error").asText());
      }
    } catch (IOException e) {
      // not the command's JSON: the kubelet's fallback, the end of the pod's log
    }
    String tail = message == null ? "" : message.strip();
    return bound("the evaluation pod exited with code " + t.getExitCode()
        + (t.getReason() == null ? "" : " (" + t.getReason() + ")")
        + (tail.isEmpty() ? " without a message" : ": " + lastLines(tail)));
  }

  private static Optional<ContainerStateTerminated> terminated(Pod pod) {
    if (pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> EvaluationPods.CONTAINER.equals(s.getName()) || pod.getStatus().getContainerStatuses().size() == 1)
        .map(ContainerStatus::getState)
        .filter(s -> s != null && s.getTerminated() != null)
        .map(s -> s.getTerminated())
        .findFirst();
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
