package dev.nixek.ci.common.seal;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.kube.KubeObjects;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where the seal key lives: the Secret {@code nixek-ci-seal-key} (by default) in the operator namespace, entry
 * {@code key}. The operator creates it at first start, as the token key; the report API only reads it, with a Role
 * that may {@code get} that one Secret by name and nothing else (docs/secrets.md#the-seal-key).
 */
public final class SealKeyStore {
  /** Default name of the seal key Secret. */
  public static final String DEFAULT_SECRET = "nixek-ci-seal-key";
  static final String KEY = "key";

  private SealKeyStore() {}

  /** The operator's call: the key, created when there is none yet (two replicas racing read the winner's). */
  public static SealKey loadOrCreate(KubernetesClient client, String namespace, String name) {
    var secrets = client.secrets().inNamespace(namespace);
    Secret s = secrets.withName(name).get();
    if (s == null) {
      Secret fresh = new SecretBuilder()
          .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, "seal-key")
          .endMetadata()
          .withType("Opaque")
          .addToData(KEY, Base64.getEncoder().encodeToString(SealKey.random().encoded()))
          .build();
      s = KubeObjects.createIfAbsent(() -> secrets.resource(fresh).create())
          .orElseGet(() -> secrets.withName(name).get());
    }
    return decode(s, namespace, name);
  }

  /**
   * The operator's sealer under the configured key Secret, loaded (or created) at the first {@code get()} and then
   * kept: the key never changes while the operator runs. A failed load is not kept, so the next call tries again
   * (RBAC fixed, API server back). One instance is shared by everything in the operator that seals.
   */
  public static Supplier<Sealer> lazySealer(KubernetesClient client, String namespace, String name) {
    return new Supplier<>() {
      private volatile Sealer sealer;

      @Override
      public Sealer get() {
        Sealer s = sealer;
        if (s == null) {
          synchronized (this) {
            s = sealer;
            if (s == null) {
              s = new Sealer(loadOrCreate(client, namespace, name));
              sealer = s;
            }
          }
        }
        return s;
      }
    };
  }

  /** The report API's call: the key if the operator made it already, else empty (the caller retries later). */
  public static Optional<SealKey> read(KubernetesClient client, String namespace, String name) {
    Secret s = client.secrets().inNamespace(namespace).withName(name).get();
    return s == null ? Optional.empty() : Optional.of(decode(s, namespace, name));
  }

  private static SealKey decode(Secret s, String namespace, String name) {
    String encoded = s.getData() == null ? null : s.getData().get(KEY);
    if (encoded == null) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " has no '" + KEY + "' entry");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " entry '" + KEY + "' is not base64");
    }
    if (raw.length != SealKey.BYTES) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " entry '" + KEY + "' has " + raw.length
          + " bytes, a seal key has " + SealKey.BYTES);
    }
    return new SealKey(raw);
  }
}
