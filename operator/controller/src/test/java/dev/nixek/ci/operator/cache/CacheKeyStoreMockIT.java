package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheSigningKey;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class CacheKeyStoreMockIT {
  static KubernetesClient client;

  private final CacheLayout layout = new CacheLayout("nixek-cache", "c0ffee");

  @Test
  void oneKeyPerDomainDerivedFromOneMasterMadeOnFirstUseInTheOperatorNamespace() {
    CacheKeyStore store = new CacheKeyStore(client, "nixek-system", "nixek-ci-cache-key", layout);
    CacheSigningKey a = store.keyFor("tenant-a");
    CacheSigningKey b = store.keyFor("tenant-b");
    assertThat(a.publicKey()).startsWith("nixek-c0ffee-tenant-a-1:").isNotEqualTo(b.publicKey());
    assertThat(b.publicKey()).startsWith("nixek-c0ffee-tenant-b-1:");
    // a key signs for its own domain only
    assertThat(b.verify("1;/nix/store/x;sha256:y;1;", a.sign("1;/nix/store/x;sha256:y;1;"))).isFalse();

    // another replica (a fresh store) reads the same master, so derives the same keys
    CacheKeyStore replica = new CacheKeyStore(client, "nixek-system", "nixek-ci-cache-key", layout);
    assertThat(replica.keyFor("tenant-a").secret()).isEqualTo(a.secret());

    // one Secret, named in advance (what RBAC can name), whatever the number of domains
    assertThat(client.secrets().inNamespace("nixek-system").list().getItems()).singleElement().satisfies(s -> {
      assertThat(s.getMetadata().getName()).isEqualTo("nixek-ci-cache-key");
      assertThat(s.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "cache-key");
      assertThat(Base64.getDecoder().decode(s.getData().get("key"))).hasSize(32);
    });
    assertThat(client.secrets().inNamespace("tenant-a").list().getItems()).isEmpty();
  }

  @Test
  void theDerivationIsFixedSoEveryReplicaAndRestartSignsAlike() {
    byte[] master = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    CacheSigningKey k = CacheKeyStore.derive(master, "nixek-c0ffee-tenant-a-1", "tenant-a");
    assertThat(CacheKeyStore.derive(master, "nixek-c0ffee-tenant-a-1", "tenant-a").secret()).isEqualTo(k.secret());
    assertThat(CacheKeyStore.derive(master, "nixek-c0ffee-tenant-a-1", "tenant-b").secret())
        .isNotEqualTo(k.secret());
    master[0] = 1;
    assertThat(CacheKeyStore.derive(master, "nixek-c0ffee-tenant-a-1", "tenant-a").secret())
        .isNotEqualTo(k.secret());
    // Nix's own format round-trips (parse checks that the public half matches the seed)
    assertThat(CacheSigningKey.parse(k.secret()).publicKey()).isEqualTo(k.publicKey());
  }

  @Test
  void aMasterSecretOfTheWrongShapeDoesNotSign() {
    client.secrets().inNamespace("other-system").resource(new SecretBuilder().withNewMetadata()
        .withName("nixek-ci-cache-key").endMetadata()
        .addToData("key", Base64.getEncoder().encodeToString(new byte[16])).build()).create();
    assertThatThrownBy(() -> new CacheKeyStore(client, "other-system", "nixek-ci-cache-key", layout)
        .keyFor("tenant-c")).hasMessageContaining("has 16 bytes, not 32");
    Secret kept = client.secrets().inNamespace("other-system").withName("nixek-ci-cache-key").get();
    assertThat(Base64.getDecoder().decode(kept.getData().get("key"))).hasSize(16);
  }
}
