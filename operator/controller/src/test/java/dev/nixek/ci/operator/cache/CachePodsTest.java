package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class CachePodsTest {
  private static final CachePodSettings SETTINGS = CachePodSettings.of(URI.create("http://report:8080/v1/cache"),
      "team-a", "nixek-c-team-a-1:PUBLIC", "nxkc_123_secretmac");

  private static Pod pod() {
    return new PodBuilder().withNewMetadata().withName("p").endMetadata().withNewSpec()
        .addNewContainer().withName("builder").withCommand("nixek", "build").addNewEnv().withName("NIX_REMOTE")
        .withValue("local").endEnv().endContainer()
        .addNewVolume().withName("upload").withNewSecret().withSecretName("grant").endSecret().endVolume()
        .endSpec().build();
  }

  @Test
  void theTokenRidesInTheSecretAndTheSpecHoldsOnlyPublicSettings() {
    Pod pod = CachePods.withSettings(pod(), "builder", "grant", SETTINGS, List.of("--cache-grant", "/x/cache.json"));
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getCommand()).containsExactly("nixek", "build", "--cache-grant", "/x/cache.json");
    assertThat(c.getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("NIX_CONFIG");
      assertThat(e.getValue()).isEqualTo("extra-substituters = http://report:8080/v1/cache/team-a\n"
          + "extra-trusted-public-keys = nixek-c-team-a-1:PUBLIC\nnetrc-file = /nixek/cache/netrc\n");
    });
    assertThat(c.getVolumeMounts()).singleElement().satisfies(m -> {
      assertThat(m.getMountPath() + "/" + CachePods.NETRC_KEY).isEqualTo(CachePodSettings.NETRC_PATH);
      assertThat(m.getReadOnly()).isTrue();
    });
    assertThat(pod.getSpec().getVolumes()).filteredOn(v -> v.getName().equals("nixek-cache")).singleElement()
        .satisfies(v -> {
          assertThat(v.getSecret().getSecretName()).isEqualTo("grant");
          assertThat(v.getSecret().getItems()).singleElement().satisfies(i -> assertThat(i.getKey()).isEqualTo("netrc"));
          assertThat(v.getSecret().getDefaultMode()).isEqualTo(0440);
        });
    // nowhere in the spec: the token
    assertThat(Serialization.asJson(pod)).doesNotContain("nxkc_").doesNotContain("secretmac");
    // the original is untouched
    assertThat(pod().getSpec().getContainers().get(0).getCommand()).containsExactly("nixek", "build");

    Secret secret = CachePods.withNetrc(new SecretBuilder().withNewMetadata().withName("grant").endMetadata()
        .addToData("upload.json", "e30=").build(), SETTINGS);
    assertThat(secret.getData()).containsKeys("upload.json", "netrc");
    assertThat(new String(Base64.getDecoder().decode(secret.getData().get("netrc")), StandardCharsets.UTF_8))
        .isEqualTo("machine report\nlogin nixek\npassword nxkc_123_secretmac\n");
  }
}
