package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.text.ControlChars;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Kubernetes-style conditions: set on first visit, lastTransitionTime kept while the status does not change. */
public final class Conditions {
  /** The condition of run-to-completion objects (jobs). */
  public static final String SUCCEEDED = "Succeeded";
  /** The condition of long-lived objects (images). */
  public static final String READY = "Ready";
  public static final String TRUE = "True";
  public static final String FALSE = "False";
  public static final String UNKNOWN = "Unknown";

  private Conditions() {}

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /**
   * {@code conditions} with {@code type} set. lastTransitionTime changes only when the status does, so that a
   * reconcile that finds nothing new writes nothing new. Control characters in {@code message} (it may quote nix,
   * a step's output, a cloud API) are escaped ({@link ControlChars}): {@code kubectl describe} prints it raw.
   */
  public static List<Condition> with(List<Condition> conditions, String type, String status, String reason,
      String message, Long observedGeneration, Instant now) {
    List<Condition> out = new ArrayList<>();
    Condition old = null;
    if (conditions != null) {
      for (Condition c : conditions) {
        if (type.equals(c.getType())) {
          old = c;
        } else {
          out.add(c);
        }
      }
    }
    String transition = old != null && Objects.equals(old.getStatus(), status) && old.getLastTransitionTime() != null
        ? old.getLastTransitionTime()
        : now.truncatedTo(ChronoUnit.SECONDS).toString();
    out.add(new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(ControlChars.escape(message))
        .withObservedGeneration(observedGeneration)
        .withLastTransitionTime(transition)
        .build());
    out.sort((a, b) -> a.getType().compareTo(b.getType()));
    return out;
  }

  /** {@code conditions} with {@code type} set to {@code reason} and the condition status that reason comes with. */
  public static List<Condition> with(List<Condition> conditions, String type, ConditionReason reason, String message,
      Long observedGeneration, Instant now) {
    return with(conditions, type, reason.status().value(), reason.name(), message, observedGeneration, now);
  }

  /** Whether {@code condition} carries {@code reason}. */
  public static boolean hasReason(Condition condition, ConditionReason reason) {
    return condition != null && reason.name().equals(condition.getReason());
  }

  /** Whether the job has ended: its Succeeded condition is True or False. */
  public static boolean isTerminal(NixekJobStatus status) {
    if (status == null) {
      return false;
    }
    return find(status.conditions, SUCCEEDED)
        .map(c -> TRUE.equals(c.getStatus()) || FALSE.equals(c.getStatus()))
        .orElse(false);
  }
}
