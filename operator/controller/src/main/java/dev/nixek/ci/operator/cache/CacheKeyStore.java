package dev.nixek.ci.operator.cache;

import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheSigningKey;
import dev.nixek.ci.common.kube.KubeObjects;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signing key of each trust domain's binary cache: a Secret in the operator namespace
 * ({@code nixek-cache-key-<hash of the domain>}), made on the domain's first use. One key per domain, not one per
 * installation: a narinfo signed for one domain verifies nowhere else even if it were copied into another's prefix,
 * and a domain whose cache was poisoned by its own builds is reset by deleting its Secret (and prefix) alone. Tenants
 * never read it: it is not in their namespace. When two replicas race, the loser of the create reads the winner's.
 */
public final class CacheKeyStore {
  static final String KEY = "secret-key";
  static final String DOMAIN_ANNOTATION = "ci.nixek.dev/trust-domain";

  private final KubernetesClient client;
  private final String namespace;
  private final CacheLayout layout;
  private final Map<String, CacheSigningKey> keys = new ConcurrentHashMap<>();

  public CacheKeyStore(KubernetesClient client, String namespace, CacheLayout layout) {
    this.client = client;
    this.namespace = namespace;
    this.layout = layout;
  }

  public CacheSigningKey keyFor(String trustDomain) {
    return keys.computeIfAbsent(trustDomain, this::load);
  }

  private CacheSigningKey load(String trustDomain) {
    String name = CacheLayout.keySecretName(trustDomain);
    var secrets = client.secrets().inNamespace(namespace);
    Secret s = secrets.withName(name).get();
    if (s == null) {
      CacheSigningKey fresh = CacheSigningKey.generate(layout.keyName(trustDomain));
      Secret secret = new SecretBuilder()
          .withNewMetadata()
          .withName(name)
          .withNamespace(namespace)
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, "cache-key")
          .addToAnnotations(DOMAIN_ANNOTATION, trustDomain)
          .endMetadata()
          .withType("Opaque")
          .addToData(KEY, Base64.getEncoder().encodeToString(fresh.secret().getBytes(StandardCharsets.UTF_8)))
          .build();
      s = KubeObjects.createIfAbsent(() -> secrets.resource(secret).create())
          .orElseGet(() -> secrets.withName(name).get());
    }
    String domain = s.getMetadata().getAnnotations() == null ? null
        : s.getMetadata().getAnnotations().get(DOMAIN_ANNOTATION);
    if (!trustDomain.equals(domain)) {
      // the name is a hash prefix: a collision, or a Secret someone else made, must not sign for this domain
      throw new IllegalStateException("Secret " + namespace + "/" + name + " is not the cache key of trust domain '"
          + trustDomain + "' (its " + DOMAIN_ANNOTATION + " annotation says " + domain + ")");
    }
    String encoded = s.getData() == null ? null : s.getData().get(KEY);
    if (encoded == null) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + " has no '" + KEY + "' entry");
    }
    try {
      return CacheSigningKey.parse(new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("Secret " + namespace + "/" + name + ": " + e.getMessage(), e);
    }
  }
}
