package dev.nixek.ci.operator.secrets;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which Secrets a job made by a {@link NixekRepository} may use (docs/secrets.md#who-may-use-a-secret): those its
 * repository's {@code spec.secrets} lists, none for a fork's pull request, none when the repository is gone. A job
 * not made by a repository is limited only by the Secrets' own opt-in label.
 */
public interface RepositorySecretPolicy {
  /** The label the repository controller puts on its jobs, naming the repository. */
  String REPOSITORY_LABEL = "ci.nixek.dev/repository";
  /**
   * The label a job of a pull request from a fork carries ({@code "true"}). The repository controller must set it on
   * such jobs; until it does, a fork's job gets what its repository lists (forks are off by default).
   */
  String FORK_LABEL = "ci.nixek.dev/fork";

  /** The Secret names the job may use, or empty when only the opt-in label limits it (no repository made it). */
  Optional<Allowed> allowed(NixekJob job);

  /** What a repository allows its job, and why, for the refusal's message. */
  record Allowed(Set<String> secrets, String why) {}

  /** The policy reading the job's repository from the API server. */
  static RepositorySecretPolicy fromRepositories(KubernetesClient client) {
    return job -> {
      Map<String, String> labels = job.getMetadata().getLabels();
      String repo = labels == null ? null : labels.get(REPOSITORY_LABEL);
      if (repo == null) {
        return Optional.empty();
      }
      if ("true".equals(labels.get(FORK_LABEL))) {
        return Optional.of(new Allowed(Set.of(), "jobs of pull requests from forks get no secrets"));
      }
      // a list by name: the operator may list and watch repositories (their reconciler's informer), not get them
      NixekRepository r = client.resources(NixekRepository.class).inNamespace(job.getMetadata().getNamespace())
          .withField("metadata.name", repo).list().getItems().stream().findFirst().orElse(null);
      if (r == null) {
        return Optional.of(new Allowed(Set.of(), "its repository " + repo + " does not exist"));
      }
      var listed = r.getSpec() == null || r.getSpec().secrets == null ? Set.<String>of() : Set.copyOf(r.getSpec().secrets);
      return Optional.of(new Allowed(listed, "repository " + repo + " lists " + (listed.isEmpty() ? "no Secrets"
          : "only " + String.join(", ", new java.util.TreeSet<>(listed))) + " in spec.secrets"));
    };
  }
}
