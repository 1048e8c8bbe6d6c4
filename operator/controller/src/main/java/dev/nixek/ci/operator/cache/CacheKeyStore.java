package dev.nixek.ci.operator.cache;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheSigningKey;
import dev.nixek.ci.common.kube.KeySecrets;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signing key of each trust domain's binary cache, derived from one master key: the Secret
 * {@code nixek-ci-cache-key} (by default, NIXEK_CACHE_KEY_SECRET) in the operator namespace, made at the first build
 * that publishes, read by name (the chart's Role names it, as the token key and the seal key). A domain's Ed25519
 * seed is HMAC-SHA256(master, "nixek-ci binary cache signing key" NUL domain): one key per domain, so a narinfo signed
 * for one domain verifies nowhere else even if it were copied into another's prefix, without a Secret per domain that
 * RBAC could not name in advance. Tenants never read it: it is not in their namespace. Replacing the master Secret
 * replaces every domain's key (docs/images.md#binary-cache).
 */
public final class CacheKeyStore {
  static final int MASTER_BYTES = 32;
  private static final byte[] CONTEXT = "nixek-ci binary cache signing key\0".getBytes(StandardCharsets.UTF_8);

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private final CacheLayout layout;
  private final Map<String, CacheSigningKey> keys = new ConcurrentHashMap<>();
  private volatile byte[] master;

  public CacheKeyStore(KubernetesClient client, String namespace, String secretName, CacheLayout layout) {
    this.client = client;
    this.namespace = namespace;
    this.secretName = secretName;
    this.layout = layout;
  }

  /** The domain's key; the master is loaded (or made) at the first call that succeeds, then kept. */
  public CacheSigningKey keyFor(String trustDomain) {
    return keys.computeIfAbsent(trustDomain, d -> derive(master(), layout.keyName(d), d));
  }

  /** The key of {@code trustDomain} under {@code master}, named {@code name}. */
  static CacheSigningKey derive(byte[] master, String name, String trustDomain) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(master, "HmacSHA256"));
      mac.update(CONTEXT);
      return CacheSigningKey.fromSeed(name, mac.doFinal(trustDomain.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private byte[] master() {
    byte[] m = master;
    if (m == null) {
      synchronized (this) {
        m = master;
        if (m == null) {
          // a failure is not kept: the next build tries again (RBAC fixed, API server back)
          m = KeySecrets.loadOrCreate(client, namespace, secretName, "cache-key", MASTER_BYTES, () -> {
            byte[] fresh = new byte[MASTER_BYTES];
            new SecureRandom().nextBytes(fresh);
            return fresh;
          });
          master = m;
        }
      }
    }
    return m;
  }
}
