package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The token record of a job: a Secret owned by the job holding only the SHA-256 of its report token, labelled with
 * the token's lookup id so the report API can resolve the job from the token (DESIGN §5). Kubernetes deletes it
 * with the job (owner reference); the report API also refuses the token once the job is terminal.
 */
public final class JobTokenSecrets {
  static final String SHA256_KEY = "sha256";

  private final KubernetesClient client;

  public JobTokenSecrets(KubernetesClient client) {
    this.client = client;
  }

  public static String secretName(NixekJob job) {
    return "nixek-token-" + job.getMetadata().getUid();
  }

  /** Makes sure the job's token Secret records {@code token}'s hash. */
  public void ensure(NixekJob job, String token) {
    String hash = JobTokens.sha256Hex(token);
    Secret desired = new SecretBuilder()
        .withNewMetadata()
        .withName(secretName(job))
        .withNamespace(job.getMetadata().getNamespace())
        .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
        .addToLabels(Labels.COMPONENT, Labels.COMPONENT_JOB_TOKEN)
        .addToLabels(Labels.JOB_UID, job.getMetadata().getUid())
        .addToLabels(Labels.TOKEN_ID, JobTokens.tokenId(hash))
        .addToAnnotations(Labels.JOB_NAME_ANNOTATION, job.getMetadata().getName())
        .withOwnerReferences(new OwnerReferenceBuilder()
            .withApiVersion(job.getApiVersion())
            .withKind(job.getKind())
            .withName(job.getMetadata().getName())
            .withUid(job.getMetadata().getUid())
            .withController(true)
            .build())
        .endMetadata()
        .withType("Opaque")
        .addToData(SHA256_KEY, Base64.getEncoder().encodeToString(hash.getBytes(StandardCharsets.US_ASCII)))
        .build();
    var secrets = client.secrets().inNamespace(job.getMetadata().getNamespace());
    Secret existing = secrets.withName(secretName(job)).get();
    if (existing == null) {
      try {
        secrets.resource(desired).create();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        existing = secrets.withName(secretName(job)).get();
      }
    }
    if (existing != null && !desired.getData().equals(existing.getData())
        || existing != null && !desired.getMetadata().getLabels().equals(existing.getMetadata().getLabels())) {
      // a new launch attempt has a new token: the old one stops working here
      secrets.resource(desired).update();
    }
  }
}
