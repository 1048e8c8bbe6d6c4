package dev.nixek.ci.operator.token;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The token records of a job: Secrets owned by the job holding only the SHA-256 of a token, labelled with the token's
 * lookup id (so the report API can resolve the job from the token, docs/architecture.md) and its purpose — one for the agent's
 * step reports, one for the evaluation pod's result (jobs written in Nix). Kubernetes deletes them with the job (owner
 * reference); the report API also refuses a token once the job is terminal, and the operator deletes the evaluation
 * token's record once the evaluation is recorded.
 */
public final class JobTokenSecrets {
  static final String SHA256_KEY = "sha256";

  private final KubernetesClient client;

  public JobTokenSecrets(KubernetesClient client) {
    this.client = client;
  }

  public static String secretName(NixekJob job) {
    return secretName(job, JobTokens.Purpose.STEPS);
  }

  /** The name of the job's record of its token of {@code purpose}. */
  public static String secretName(NixekJob job, JobTokens.Purpose purpose) {
    return (purpose == JobTokens.Purpose.STEPS ? "nixek-token-" : "nixek-token-" + purpose.label() + "-")
        + job.getMetadata().getUid();
  }

  /** Makes sure the job's step-token Secret records {@code token}'s hash. */
  public void ensure(NixekJob job, String token) {
    ensure(job, token, JobTokens.Purpose.STEPS);
  }

  /** Makes sure the job's token Secret of {@code purpose} records {@code token}'s hash. */
  public void ensure(NixekJob job, String token, JobTokens.Purpose purpose) {
    String hash = JobTokens.sha256Hex(token);
    String name = secretName(job, purpose);
    Secret desired = new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(job.getMetadata().getNamespace())
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
        .addToLabels(Labels.COMPONENT, Labels.COMPONENT_JOB_TOKEN)
        .addToLabels(Labels.JOB_UID, job.getMetadata().getUid())
        .addToLabels(Labels.TOKEN_ID, JobTokens.tokenId(hash))
        .addToLabels(Labels.TOKEN_PURPOSE, purpose.label())
        .addToAnnotations(Labels.JOB_NAME_ANNOTATION, job.getMetadata().getName())
        .withOwnerReferences(Owners.controller(job))
        .endMetadata()
        .withType("Opaque")
        .addToData(SHA256_KEY, Base64.getEncoder().encodeToString(hash.getBytes(StandardCharsets.US_ASCII)))
        .build();
    var secrets = client.secrets().inNamespace(job.getMetadata().getNamespace());
    Secret existing = secrets.withName(name).get();
    if (existing == null) {
      if (KubeObjects.createIfAbsent(() -> secrets.resource(desired).create()).isPresent()) {
        return;
      }
      existing = secrets.withName(name).get();
    }
    if (existing != null && !desired.getData().equals(existing.getData())
        || existing != null && !desired.getMetadata().getLabels().equals(existing.getMetadata().getLabels())) {
      // a new launch attempt has a new token: the old one stops working here
      secrets.resource(desired).update();
    }
  }

  /** Deletes the job's token record of {@code purpose} (the token stops working); nothing when it is gone. */
  public void delete(NixekJob job, JobTokens.Purpose purpose) {
    client.secrets().inNamespace(job.getMetadata().getNamespace()).withName(secretName(job, purpose)).delete();
  }
}
