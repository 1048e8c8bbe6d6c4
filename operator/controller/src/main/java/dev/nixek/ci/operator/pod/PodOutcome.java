package dev.nixek.ci.operator.pod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.util.Optional;

/**
 * Where a {@link OneShotNixPod} is, from its phase and its container's state: what Kubernetes says, before either
 * user (the evaluation, the image build) words it. A failed pod is classified in this order: it ran past its deadline,
 * its container was killed for memory, its container exited (with its termination message), or it has no container
 * state at all (evicted, its node lost).
 */
public sealed interface PodOutcome {
  /** Pending or running ({@code started}: running). */
  record Working(boolean started) implements PodOutcome {}

  /** Exited 0; the container's state, which the kubelet may not have reported. */
  record Succeeded(Optional<ContainerStateTerminated> container) implements PodOutcome {}

  /** Stopped at its {@code activeDeadlineSeconds}; the pod's message, and the container's state if it has one. */
  record DeadlineExceeded(Long deadlineSeconds, String podMessage, Optional<ContainerStateTerminated> container)
      implements PodOutcome {}

  /** The container was killed for exceeding its memory limit (or the node's memory). */
  record OomKilled(ContainerStateTerminated container) implements PodOutcome {}

  /** The container exited non-zero: its exit code and termination message say why. */
  record Exited(ContainerStateTerminated container) implements PodOutcome {}

  /** Failed without a container state: the pod's reason and message are all there is. */
  record Vanished(String reason, String message) implements PodOutcome {}

  /** The outcome of {@code pod}, whose one container is named {@code container}. */
  static PodOutcome of(Pod pod, String container) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    Optional<ContainerStateTerminated> terminated = terminated(pod, container);
    if ("Succeeded".equals(phase)) {
      return new Succeeded(terminated);
    }
    if (!"Failed".equals(phase)) {
      return new Working("Running".equals(phase));
    }
    String reason = pod.getStatus().getReason();
    if ("DeadlineExceeded".equals(reason)) {
      return new DeadlineExceeded(pod.getSpec().getActiveDeadlineSeconds(), pod.getStatus().getMessage(), terminated);
    }
    if ("Evicted".equals(reason)) {
      // past its ephemeral-storage limit or its /nix sizeLimit (PodLimits), or a node short of disk: the kubelet's
      // message says which ("Usage of EmptyDir volume \"nix-store\" exceeds the limit \"8Gi\"."); the killed
      // container's own termination says nothing of it
      return new Vanished(reason, pod.getStatus().getMessage());
    }
    if (terminated.isPresent() && "OOMKilled".equals(terminated.get().getReason())) {
      return new OomKilled(terminated.get());
    }
    if (terminated.isPresent()) {
      return new Exited(terminated.get());
    }
    return new Vanished(reason, pod.getStatus().getMessage());
  }

  /**
   * The command's own error report: its termination message when that is a JSON object with an {@code error}; empty
   * when it is something else, such as the kubelet's fallback (the end of the pod's log).
   */
  static Optional<JsonNode> errorReport(ContainerStateTerminated t) {
    String message = t.getMessage();
    try {
      JsonNode m = message == null || message.isBlank() ? null : TerminationMessages.JSON.readTree(message);
      return m != null && m.isObject() && m.hasNonNull("error") ? Optional.of(m) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<ContainerStateTerminated> terminated(Pod pod, String container) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> container.equals(s.getName()) || pod.getStatus().getContainerStatuses().size() == 1)
        .map(ContainerStatus::getState)
        .filter(s -> s != null && s.getTerminated() != null)
        .map(s -> s.getTerminated())
        .findFirst();
  }
}

/** The one JSON mapper of termination messages (an interface cannot keep a private one). */
final class TerminationMessages {
  static final ObjectMapper JSON = new ObjectMapper();

  private TerminationMessages() {}
}
