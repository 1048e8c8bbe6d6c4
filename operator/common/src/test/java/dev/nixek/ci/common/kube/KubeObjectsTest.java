package dev.nixek.ci.common.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

class KubeObjectsTest {
  @Test
  void anObjectThatExistsIsNotAnErrorButNotCreatedEither() {
    assertThat(KubeObjects.createIfAbsent(() -> "made")).contains("made");
    assertThat(KubeObjects.createIfAbsent(() -> {
      throw new KubernetesClientException("exists", 409, null);
    })).isEmpty();
  }

  @Test
  void everyOtherErrorIsThrown() {
    assertThatThrownBy(() -> KubeObjects.createIfAbsent(() -> {
      throw new KubernetesClientException("forbidden", 403, null);
    })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
  }
}
