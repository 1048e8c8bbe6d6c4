package dev.nixek.ci.operator.forge;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.operator.evaluation.EvaluationTokens;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import dev.nixek.ci.operator.repository.RepositorySecrets;
import dev.nixek.ci.operator.repository.RepositoryUrls;
import dev.nixek.ci.protocol.CheckoutCredential;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Optional;

/**
 * Who gets a repository's token ({@code spec.tokenSecretRef}) besides the operator's own {@code git ls-remote} and
 * forge calls (docs/repositories.md): a job's checkout ({@link CheckoutCredentials}), a job's evaluation pod, and, by the same rule
 * ({@code CommitEvaluations.forgeToken}), the repository's commit evaluation pod. One test for a job, whatever it fetches: the job is controlled by the repository
 * (owner reference with its uid), it is not a fork's pull request ({@code ci.nixek.dev/fork: "true"}), and the URL
 * it fetches is the repository's own {@code spec.url} — a user's own NixekJob naming the same URL gets nothing.
 */
public final class RepositoryTokens implements EvaluationTokens {
  private final KubernetesClient client;
  private final RepositorySecrets secrets;

  public RepositoryTokens(KubernetesClient client) {
    this.client = client;
    this.secrets = new RepositorySecrets(client);
  }

  /**
   * The token for {@code job}'s fetch of {@code url}, if it gets one. API failures propagate; a missing or empty
   * token Secret means none (the repository's own condition says SecretInvalid).
   */
  public Optional<String> forJob(NixekJob job, String url) {
    if (url == null || isFork(job)) {
      return Optional.empty();
    }
    Optional<NixekRepository> repo = RepositoryOfJob.of(client, job);
    if (repo.isEmpty() || repo.get().getSpec().tokenSecretRef == null || !url.equals(repo.get().getSpec().url)) {
      return Optional.empty();
    }
    try {
      return Optional.of(secrets.read(repo.get(), repo.get().getSpec().tokenSecretRef, "spec.tokenSecretRef"));
    } catch (RepositorySecrets.Invalid e) {
      return Optional.empty();
    }
  }

  /**
   * The token for the evaluation pod of {@code job} (its {@code spec.flake}): {@link #forJob} with the flake's URL
   * without its {@code git+}, which must be {@code https://} (or {@code http://} to this machine,
   * {@link CheckoutCredential#sentTo}). A job written inline ({@code spec.nix}) fetches no repository: none.
   */
  @Override
  public Optional<String> forEvaluation(NixekJob job) {
    if (job.getSpec() == null || job.getSpec().flake == null || job.getSpec().flake.url == null) {
      return Optional.empty();
    }
    String prefix = RepositoryUrls.flakeUrl("");
    String flakeUrl = job.getSpec().flake.url;
    if (!flakeUrl.startsWith(prefix)) {
      return Optional.empty();
    }
    String url = flakeUrl.substring(prefix.length());
    return CheckoutCredential.sentTo(url) ? forJob(job, url) : Optional.empty();
  }

  static boolean isFork(NixekJob job) {
    Map<String, String> labels = job.getMetadata().getLabels();
    return labels != null && "true".equals(labels.get(RepositoryJobs.FORK_LABEL));
  }
}
