package dev.nixek.ci.common.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The conditions GitOps tools read, derived from each kind's own condition ({@code Succeeded} of a job, {@code Ready}
 * of an image) so that they can never disagree with it: kstatus (Flux, kpt, cli-utils) decides on {@code Reconciling}
 * (True: InProgress) and {@code Stalled} (True: Failed) before anything else and then on {@code Ready} (True:
 * Current); Argo CD's health check (charts/nixek-ci/files/health) reads the kind's own condition. A job gets
 * {@code Ready} (its {@code Succeeded} under the name kstatus knows), {@code Reconciling} and {@code Stalled}; an
 * image gets {@code Reconciling} and {@code Stalled}. Each carries the own condition's reason, message and
 * observedGeneration. A job's conditions, its own included, all get the status's observedGeneration: the status was
 * computed from that generation as a whole, so no condition looks stale after a change the operator has seen (e.g.
 * {@code spec.cancel} on an ended job). An image's {@code Ready} keeps its own: it says which generation a build or
 * import failed for, and the image reconciler retries when the spec's generation moves past it.
 */
public final class GitOpsConditions {
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";
  /**
   * Most characters of a derived condition's message: the own condition keeps the whole (up to 2,048 characters of
   * nix's error), the copies a short one, so three copies add well under 3 KiB to the status at worst and the
   * 16 KiB reserve of {@link ObjectBudget} holds.
   */
  public static final int MESSAGE_MAX = 160;

  private GitOpsConditions() {}

  /** A job's conditions with Ready, Reconciling and Stalled derived from Succeeded. */
  public static List<Condition> forJob(List<Condition> conditions, Long observedGeneration, Instant now) {
    return derive(conditions, Conditions.SUCCEEDED, true, observedGeneration, now);
  }

  /** An image's conditions with Reconciling and Stalled derived from Ready. */
  public static List<Condition> forImage(List<Condition> conditions, Instant now) {
    return derive(conditions, Conditions.READY, false, null, now);
  }

  private static List<Condition> derive(List<Condition> conditions, String own, boolean withReady,
      Long observedGeneration, Instant now) {
    Optional<Condition> primary = Conditions.find(conditions, own);
    if (primary.isEmpty()) {
      return conditions; // nothing computed yet: nothing to derive from
    }
    Condition p = primary.get();
    List<Condition> out = new ArrayList<>(conditions);
    if (withReady) {
      out = set(out, Conditions.READY, p.getStatus(), p, now);
    }
    out = set(out, RECONCILING, Conditions.UNKNOWN.equals(p.getStatus()) ? Conditions.TRUE : Conditions.FALSE, p, now);
    out = set(out, STALLED, Conditions.FALSE.equals(p.getStatus()) ? Conditions.TRUE : Conditions.FALSE, p, now);
    List<Condition> stamped = new ArrayList<>();
    for (Condition c : out) {
      stamped.add(observedGeneration == null || observedGeneration.equals(c.getObservedGeneration()) ? c
          : new ConditionBuilder(c).withObservedGeneration(observedGeneration).build());
    }
    stamped.sort((a, b) -> a.getType().compareTo(b.getType()));
    return stamped;
  }

  /**
   * {@code conditions} with {@code type} set to {@code status} and {@code from}'s reason and message (already escaped
   * there); lastTransitionTime kept while the status does not change, as {@link Conditions#with} does.
   */
  private static List<Condition> set(List<Condition> conditions, String type, String status, Condition from,
      Instant now) {
    List<Condition> out = new ArrayList<>();
    Condition old = null;
    for (Condition c : conditions) {
      if (type.equals(c.getType())) {
        old = c;
      } else {
        out.add(c);
      }
    }
    String transition = old != null && Objects.equals(old.getStatus(), status) && old.getLastTransitionTime() != null
        ? old.getLastTransitionTime()
        : now.truncatedTo(ChronoUnit.SECONDS).toString();
    out.add(new ConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(from.getReason())
        .withMessage(abbreviate(from.getMessage()))
        .withObservedGeneration(from.getObservedGeneration())
        .withLastTransitionTime(transition)
        .build());
    return out;
  }

  /** {@code message} cut to {@link #MESSAGE_MAX} code points, "…" marking the cut; never inside a surrogate pair. */
  static String abbreviate(String message) {
    if (message == null || message.codePointCount(0, message.length()) <= MESSAGE_MAX) {
      return message;
    }
    return message.substring(0, message.offsetByCodePoints(0, MESSAGE_MAX - 1)) + "…";
  }
}
