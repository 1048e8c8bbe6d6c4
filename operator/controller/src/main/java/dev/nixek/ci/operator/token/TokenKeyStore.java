package dev.nixek.ci.operator.token;

import dev.nixek.ci.common.kube.KeySecrets;
import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The operator's token key: a Secret in the operator namespace holding the 256-bit key job tokens are derived from
 * ({@link JobTokens}). Created at first start; when two replicas race, the one whose create loses reads the
 * winner's key.
 */
public final class TokenKeyStore {
  static final String KEY = KeySecrets.KEY;

  private TokenKeyStore() {}

  public static JobTokens load(KubernetesClient client, String namespace, String name) {
    return new JobTokens(KeySecrets.loadOrCreate(client, namespace, name, "token-key", JobTokens::newKey));
  }
}
