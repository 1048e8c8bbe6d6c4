package dev.nixek.ci.operator.token;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Base64;

/**
 * The operator's token key: a Secret in the operator namespace holding the 256-bit key job tokens are derived from
 * ({@link JobTokens}). Created at first start; when two replicas race, the one whose create loses reads the
 * winner's key.
 */
public final class TokenKeyStore {
  static final String KEY = "key";

  private TokenKeyStore() {}

  public static JobTokens load(KubernetesClient client, String namespace, String name) {
    var secrets = client.secrets().inNamespace(namespace);
    Secret s = secrets.withName(name).get();
    if (s == null) {
      Secret fresh = new SecretBuilder()
          .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, "token-key")
          .endMetadata()
          .withType("Opaque")
          .addToData(KEY, Base64.getEncoder().encodeToString(JobTokens.newKey()))
          .build();
      s = KubeObjects.createIfAbsent(() -> secrets.resource(fresh).create())
          .orElseGet(() -> secrets.withName(name).get());
    }
    String encoded = s.getData() == null ? null : s.getData().get(KEY);
    if (encoded == null) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " has no '" + KEY + "' entry");
    }
    return new JobTokens(Base64.getDecoder().decode(encoded));
  }
}
