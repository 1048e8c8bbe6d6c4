package dev.nixek.ci.operator.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The operator's one sealer ({@code SealKeyStore.lazySealer}), shared by the jobs' secrets and the repositories'
 * webhook secrets: it uses the configured Secret (not the default name), loads it once, and does not keep a failure.
 */
@EnableKubernetesMockClient(crud = true)
class SharedSealerMockIT {
  static KubernetesClient client;
  private static final String NS = "nixek-system";

  @Test
  void usesTheConfiguredSecretAndCreatesNoOther() {
    Supplier<Sealer> sealer = SealKeyStore.lazySealer(client, NS, "custom-seal");
    assertThat(client.secrets().inNamespace(NS).withName("custom-seal").get()).isNull(); // nothing read at creation
    String sealed = sealer.get().seal("webhook secret", "ctx");
    assertThat(client.secrets().inNamespace(NS).withName("custom-seal").get()).isNotNull();
    assertThat(client.secrets().inNamespace(NS).withName(SealKeyStore.DEFAULT_SECRET).get()).isNull();
    // the report API reads the same configured Secret and opens what the operator sealed
    Sealer reportApi = new Sealer(SealKeyStore.read(client, NS, "custom-seal").orElseThrow());
    assertThat(reportApi.openString(sealed, "ctx")).isEqualTo("webhook secret");
    assertThat(sealer.get()).isSameAs(sealer.get());
  }

  @Test
  void aKeyThatCannotBeLoadedIsTriedAgainAtTheNextCall() {
    client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("broken-seal")
        .endMetadata().addToData("not-the-key", "eA==").build()).create();
    Supplier<Sealer> sealer = SealKeyStore.lazySealer(client, NS, "broken-seal");
    assertThatThrownBy(sealer::get).hasMessageContaining("broken-seal").hasMessageContaining("no 'key' entry");
    client.secrets().inNamespace(NS).withName("broken-seal").delete();
    assertThat(sealer.get().seal("x", "ctx")).isNotEmpty();
    assertThat(client.secrets().inNamespace(NS).withName("broken-seal").get().getData()).containsKey("key");
  }
}
