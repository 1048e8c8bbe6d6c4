package dev.nixek.ci.operator.forge;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Optional;

/**
 * The NixekRepository that made a job: its controller owner reference, checked against the repository's uid (a label
 * can be set by anyone who may create jobs; a controller reference to an object of another uid is not its). Used for
 * what a job gets from its repository: the checkout token and the commit statuses' forge.
 */
final class RepositoryOfJob {
  private RepositoryOfJob() {}

  /** The controlling repository, or empty for a job no (existing) repository controls. */
  static Optional<NixekRepository> of(KubernetesClient client, NixekJob job) {
    List<OwnerReference> owners = job.getMetadata().getOwnerReferences();
    if (owners == null) {
      return Optional.empty();
    }
    for (OwnerReference o : owners) {
      if (Boolean.TRUE.equals(o.getController()) && "NixekRepository".equals(o.getKind())
          && o.getApiVersion() != null && o.getApiVersion().startsWith(NixekJob.GROUP + "/")) {
        // a list by name: the operator may list and watch repositories (their reconciler's informer), not get them;
        // a get was refused with 403 on every status post and checkout outside cluster-admin (RbacAblationE2E)
        NixekRepository repo = client.resources(NixekRepository.class)
            .inNamespace(job.getMetadata().getNamespace()).withField("metadata.name", o.getName()).list().getItems()
            .stream().findFirst().orElse(null);
        return repo != null && o.getUid() != null && o.getUid().equals(repo.getMetadata().getUid())
            && repo.getSpec() != null ? Optional.of(repo) : Optional.empty();
      }
    }
    return Optional.empty();
  }
}
