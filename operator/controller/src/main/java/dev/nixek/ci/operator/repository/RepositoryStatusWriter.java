package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * Writes the operator's share of a repository's status — everything but {@code webhook}, which the report API writes
 * — by server-side apply under the operator's field manager, or, without server-side apply (the demo's mock), by a
 * JSON patch that keeps the report API's {@code webhook} as it is.
 */
final class RepositoryStatusWriter {
  private final boolean useSsa;

  RepositoryStatusWriter(boolean useSsa) {
    this.useSsa = useSsa;
  }

  /** The operator's share: a copy without {@code webhook}. */
  static NixekRepositoryStatus share(NixekRepositoryStatus status) {
    NixekRepositoryStatus copy = status == null ? new NixekRepositoryStatus()
        : Serialization.jsonMapper().convertValue(status, NixekRepositoryStatus.class);
    copy.webhook = null;
    return copy;
  }

  /** Whether writing {@code next} over {@code current} would change nothing the operator owns. */
  static boolean same(NixekRepositoryStatus current, NixekRepositoryStatus next) {
    return Serialization.jsonMapper().valueToTree(share(current))
        .equals(Serialization.jsonMapper().valueToTree(share(next)));
  }

  NixekRepository write(Context<NixekRepository> context, NixekRepository repo, NixekRepositoryStatus status) {
    if (useSsa) {
      NixekRepository fresh = new NixekRepository();
      fresh.setMetadata(new ObjectMetaBuilder().withName(repo.getMetadata().getName())
          .withNamespace(repo.getMetadata().getNamespace()).build());
      fresh.setStatus(share(status));
      return context.resourceOperations().serverSideApplyPrimaryStatus(fresh);
    }
    return context.resourceOperations().jsonPatchPrimaryStatus(repo, current -> {
      NixekRepositoryStatus own = share(status);
      own.webhook = current.getStatus() == null ? null : current.getStatus().webhook;
      current.setStatus(own);
      return current;
    });
  }
}
