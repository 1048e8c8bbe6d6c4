package dev.nixek.ci.common.kube;

import dev.nixek.ci.common.Labels;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The operator's key Secrets in its own namespace (the token key, the seal key, the binary caches' master key): one
 * entry {@code key} of random bytes, created by the first operator that needs it. Create cannot be limited by name in
 * RBAC, reading can: each is read by name, and when two replicas race the loser of the create reads the winner's.
 */
public final class KeySecrets {
  /** The entry holding the key. */
  public static final String KEY = "key";

  private KeySecrets() {}

  /**
   * The key in {@code namespace/name}, created from {@code fresh} when there is none yet; labelled
   * {@code component}. {@code bytes} is the key's length: a Secret holding another length is refused, not used.
   */
  public static byte[] loadOrCreate(KubernetesClient client, String namespace, String name, String component,
      int bytes, Supplier<byte[]> fresh) {
    return check(loadOrCreate(client, namespace, name, component, fresh), namespace, name, bytes);
  }

  /** As {@link #loadOrCreate(KubernetesClient, String, String, String, int, Supplier)}, any length but none. */
  public static byte[] loadOrCreate(KubernetesClient client, String namespace, String name, String component,
      Supplier<byte[]> fresh) {
    var secrets = client.secrets().inNamespace(namespace);
    Secret s = secrets.withName(name).get();
    if (s == null) {
      Secret made = new SecretBuilder()
          .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, component)
          .endMetadata()
          .withType("Opaque")
          .addToData(KEY, Base64.getEncoder().encodeToString(fresh.get()))
          .build();
      s = KubeObjects.createIfAbsent(() -> secrets.resource(made).create())
          .orElseGet(() -> secrets.withName(name).get());
    }
    return decode(s, namespace, name);
  }

  /** The key in {@code namespace/name} if it was made already, else empty (the caller tries again later). */
  public static Optional<byte[]> read(KubernetesClient client, String namespace, String name, int bytes) {
    Secret s = client.secrets().inNamespace(namespace).withName(name).get();
    return s == null ? Optional.empty() : Optional.of(check(decode(s, namespace, name), namespace, name, bytes));
  }

  private static byte[] decode(Secret s, String namespace, String name) {
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
    if (raw.length == 0) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " entry '" + KEY + "' is empty");
    }
    return raw;
  }

  private static byte[] check(byte[] raw, String namespace, String name, int bytes) {
    if (raw.length != bytes) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " entry '" + KEY + "' has " + raw.length
          + " bytes, not " + bytes);
    }
    return raw;
  }
}
