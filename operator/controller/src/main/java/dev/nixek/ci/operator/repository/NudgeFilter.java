package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepository;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.util.Objects;

/**
 * Wakes the repository reconciler on a new generation of the spec, on the report API's webhook nudge (a change of
 * {@code status.webhook}), and on deletion — not on the operator's own status writes, which would otherwise make each
 * reconcile trigger the next. Polling is the reconcile's reschedule.
 */
public final class NudgeFilter implements OnUpdateFilter<NixekRepository> {
  /** JOSDK instantiates it from the reconciler's annotation. */
  public NudgeFilter() {}

  @Override
  public boolean accept(NixekRepository now, NixekRepository before) {
    if (now == null || before == null) {
      return true;
    }
    if (!Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || now.getMetadata().getDeletionTimestamp() != null) {
      return true;
    }
    var a = now.getStatus() == null ? null : now.getStatus().webhook;
    var b = before.getStatus() == null ? null : before.getStatus().webhook;
    if (a == null || b == null) {
      return a != b;
    }
    return !Objects.equals(a.deliveryId, b.deliveryId) || !Objects.equals(a.receivedAt, b.receivedAt);
  }
}
