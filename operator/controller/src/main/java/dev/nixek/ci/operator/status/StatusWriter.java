package dev.nixek.ci.operator.status;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.function.BinaryOperator;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Writes the operator's share of an object's status, for both kinds: a fresh object carrying only name, namespace and
 * the operator's fields, by server-side apply under the operator's field manager
 * ({@link dev.nixek.ci.common.status.FieldManagers#OPERATOR}; fields left out are removed, so a reset status really
 * resets) — or, on API servers without server-side apply (the demo's mock), a JSON patch that keeps the other
 * writer's fields as they are. Through JOSDK's resource operations, so the next reconcile sees the write even before
 * its watch event.
 *
 * @param <R> the kind
 * @param <S> its status
 */
public final class StatusWriter<R extends CustomResource<?, S>, S> {
  private final boolean useSsa;
  private final Supplier<R> empty;
  private final UnaryOperator<S> share;
  private final BinaryOperator<S> keepOthers;

  private StatusWriter(boolean useSsa, Supplier<R> empty, UnaryOperator<S> share, BinaryOperator<S> keepOthers) {
    this.useSsa = useSsa;
    this.empty = empty;
    this.share = share;
    this.keepOthers = keepOthers;
  }

  /** Jobs: the operator owns everything but the report API's {@code steps}, {@code evaluation}, {@code agentEnded}. */
  public static StatusWriter<NixekJob, NixekJobStatus> jobs(boolean useSsa) {
    return new StatusWriter<>(useSsa, NixekJob::new, OperatorStatus::of, (own, current) -> {
      own.steps = current == null ? null : current.steps;
      own.evaluation = current == null ? null : current.evaluation;
      own.agentEnded = current == null ? null : current.agentEnded;
      own.forgeStatus = current == null ? null : current.forgeStatus; // the forge-status poster's
      return own;
    });
  }

  /** Images: the operator owns the whole status. */
  public static StatusWriter<NixekMachineImage, NixekMachineImageStatus> images(boolean useSsa) {
    return new StatusWriter<>(useSsa, NixekMachineImage::new, ImageStatuses::copy, (own, current) -> own);
  }

  /** The operator's share of {@code status}: a copy holding only the fields it owns. */
  public S share(S status) {
    return share.apply(status);
  }

  /** Whether writing {@code next} over {@code current} would change nothing the operator owns. */
  public boolean same(S current, S next) {
    return Serialization.jsonMapper().valueToTree(share(current))
        .equals(Serialization.jsonMapper().valueToTree(share(next)));
  }

  /**
   * Writes {@code status}; with {@code precondition} the write fails with 409 unless the object is still at the
   * resourceVersion it was read at — used before a job launches, so a launch token is never written over a newer
   * state.
   */
  public R write(Context<R> context, R resource, S status, boolean precondition) {
    if (useSsa) {
      R fresh = empty.get();
      fresh.setMetadata(new ObjectMetaBuilder()
          .withName(resource.getMetadata().getName())
          .withNamespace(resource.getMetadata().getNamespace())
          .withResourceVersion(precondition ? resource.getMetadata().getResourceVersion() : null)
          .build());
      fresh.setStatus(share(status));
      return context.resourceOperations().serverSideApplyPrimaryStatus(fresh);
    }
    return context.resourceOperations().jsonPatchPrimaryStatus(resource, current -> {
      current.setStatus(keepOthers.apply(share(status), current.getStatus()));
      if (precondition) {
        current.getMetadata().setResourceVersion(resource.getMetadata().getResourceVersion());
      }
      return current;
    });
  }

  /** {@link #write(Context, CustomResource, Object, boolean)} without a precondition. */
  public R write(Context<R> context, R resource, S status) {
    return write(context, resource, status, false);
  }
}
