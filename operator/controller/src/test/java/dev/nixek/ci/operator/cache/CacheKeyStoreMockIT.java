package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheSigningKey;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class CacheKeyStoreMockIT {
  static KubernetesClient client;

  private final CacheLayout layout = new CacheLayout("nixek-cache", "c0ffee");

  @Test
  void oneKeyPerDomainMadeOnFirstUseAndKeptInTheOperatorNamespace() {
    CacheKeyStore store = new CacheKeyStore(client, "nixek-system", layout);
    CacheSigningKey a = store.keyFor("tenant-a");
    CacheSigningKey b = store.keyFor("tenant-b");
    assertThat(a.publicKey()).startsWith("nixek-c0ffee-tenant-a-1:").isNotEqualTo(b.publicKey());

    // another replica (a fresh store) reads the same key
    CacheKeyStore replica = new CacheKeyStore(client, "nixek-system", layout);
    assertThat(replica.keyFor("tenant-a").publicKey()).isEqualTo(a.publicKey());

    Secret secret = client.secrets().inNamespace("nixek-system").withName(CacheLayout.keySecretName("tenant-a")).get();
    assertThat(secret.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "cache-key");
    assertThat(secret.getMetadata().getAnnotations()).containsEntry(CacheKeyStore.DOMAIN_ANNOTATION, "tenant-a");
    assertThat(client.secrets().inNamespace("tenant-a").list().getItems()).isEmpty();
  }

  @Test
  void aSecretOfTheRightNameForAnotherDomainDoesNotSign() {
    String name = CacheLayout.keySecretName("tenant-c");
    client.secrets().inNamespace("nixek-system").resource(new SecretBuilder().withNewMetadata().withName(name)
        .addToAnnotations(CacheKeyStore.DOMAIN_ANNOTATION, "someone-else").endMetadata()
        .addToData(CacheKeyStore.KEY, Base64.getEncoder().encodeToString(
            CacheSigningKey.generate("x").secret().getBytes(StandardCharsets.UTF_8)))
        .build()).create();
    assertThatThrownBy(() -> new CacheKeyStore(client, "nixek-system", layout).keyFor("tenant-c"))
        .hasMessageContaining("is not the cache key of trust domain 'tenant-c'");
  }
}
