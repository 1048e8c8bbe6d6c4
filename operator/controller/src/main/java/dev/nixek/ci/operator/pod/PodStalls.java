package dev.nixek.ci.operator.pod;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Why Kubernetes keeps a {@link OneShotNixPod} from starting, in its own words, when it says so in the pod's status:
 * the scheduler cannot place it ({@code PodScheduled=False Unschedulable}), the kubelet cannot pull its image
 * ({@code ErrImagePull}, {@code ImagePullBackOff}, …) or cannot make its container ({@code
 * CreateContainerConfigError}: a missing Secret or ConfigMap key, …). A pod that is merely slow to start (being
 * scheduled, {@code ContainerCreating}) has no stall. Causes seen only as Events (a volume that cannot be mounted)
 * are not in the status, so not here.
 */
public final class PodStalls {
  static final int MAX_MESSAGE = 1024;
  private static final Set<String> PULL = Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName",
      "ErrImageNeverPull", "RegistryUnavailable");
  private static final Set<String> CREATE = Set.of("CreateContainerConfigError", "CreateContainerError");

  private PodStalls() {}

  /**
   * Why {@code pod}'s container {@code container} does not start, as a predicate of the pod ("cannot be scheduled:
   * …"); empty when the status names no such cause.
   */
  public static Optional<String> of(Pod pod, String container) {
    if (pod.getStatus() == null) {
      return Optional.empty();
    }
    List<PodCondition> conditions = pod.getStatus().getConditions();
    if (conditions != null) {
      for (PodCondition c : conditions) {
        if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
            && "Unschedulable".equals(c.getReason())) {
          return Optional.of(bound("cannot be scheduled" + detail(c.getMessage())));
        }
      }
    }
    List<ContainerStatus> statuses = pod.getStatus().getContainerStatuses();
    if (statuses == null) {
      return Optional.empty();
    }
    for (ContainerStatus s : statuses) {
      ContainerStateWaiting w = s.getState() == null ? null : s.getState().getWaiting();
      if (w == null || !(container.equals(s.getName()) || statuses.size() == 1)) {
        continue;
      }
      String cause = " (" + w.getReason() + detail(w.getMessage()) + ")";
      if (PULL.contains(w.getReason())) {
        return Optional.of(bound("cannot pull its image " + image(pod, s) + cause));
      }
      if (CREATE.contains(w.getReason())) {
        return Optional.of(bound("cannot start its container" + cause));
      }
    }
    return Optional.empty();
  }

  /** The image as the pod asks for it (the status may hold a resolved name, or none). */
  private static String image(Pod pod, ContainerStatus status) {
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container c : pod.getSpec().getContainers()) {
        if (c.getName().equals(status.getName()) && c.getImage() != null) {
          return c.getImage();
        }
      }
    }
    return status.getImage() == null ? "(unnamed)" : status.getImage();
  }

  private static String detail(String message) {
    return message == null || message.isBlank() ? "" : ": " + message.strip();
  }

  private static String bound(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE - 1) + "…";
  }
}
