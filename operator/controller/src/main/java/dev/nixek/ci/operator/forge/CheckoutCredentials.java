package dev.nixek.ci.operator.forge;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.protocol.CheckoutCredential;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The token a job's checkout step clones with (docs/repositories.md#source-checkout): its repository's
 * {@code spec.tokenSecretRef}, sealed with the job's other secret values under {@link CheckoutCredential#SECRET_REF}
 * and served to the job's agent by the report API, so it is never in user-data, a spec or a status in clear.
 *
 * <p>Only for a job its repository controls (owner reference and uid) whose {@code spec.source.url} is the
 * repository's own URL — the agent sends the token to the source URL's host, so a job naming another host gets
 * none — and never for a pull request from a fork, whose steps are not trusted with the repository's token.
 */
public interface CheckoutCredentials {
  /**
   * The token for {@code job}'s checkout, if it gets one. API failures propagate (the launch is retried); a missing
   * or empty token Secret means none (the repository's own condition says SecretInvalid, and a private clone fails
   * with the forge's answer in the checkout step's output).
   */
  Optional<byte[]> tokenFor(NixekJob job);

  /** No job gets a checkout token (no repositories). */
  static CheckoutCredentials none() {
    return job -> Optional.empty();
  }

  /** Reads the job's repository and its token Secret from the API server ({@link RepositoryTokens#forJob}). */
  static CheckoutCredentials fromRepositories(KubernetesClient client) {
    RepositoryTokens tokens = new RepositoryTokens(client);
    return job -> job.getSpec() == null || job.getSpec().source == null ? Optional.empty()
        : tokens.forJob(job, job.getSpec().source.url).map(t -> t.getBytes(StandardCharsets.UTF_8));
  }
}
