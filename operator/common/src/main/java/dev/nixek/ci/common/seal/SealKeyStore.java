package dev.nixek.ci.common.seal;

import dev.nixek.ci.common.kube.KeySecrets;
import io.fabric8.kubernetes.client.KubernetesClient;
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
  static final String KEY = KeySecrets.KEY;

  private SealKeyStore() {}

  /** The operator's call: the key, created when there is none yet (two replicas racing read the winner's). */
  public static SealKey loadOrCreate(KubernetesClient client, String namespace, String name) {
    return new SealKey(KeySecrets.loadOrCreate(client, namespace, name, "seal-key", SealKey.BYTES,
        () -> SealKey.random().encoded()));
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
    return KeySecrets.read(client, namespace, name, SealKey.BYTES).map(SealKey::new);
  }
}
