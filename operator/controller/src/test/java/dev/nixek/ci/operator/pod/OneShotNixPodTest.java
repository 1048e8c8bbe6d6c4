package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OneShotNixPodTest {
  private static OneShotNixPod pod() {
    return OneShotNixPod.of(OneShotNixPod.metadata("p", "ns", "thing",
            new OwnerReferenceBuilder().withKind("Owner").withName("o").withUid("u").withController(true).build())
            .addToLabels("extra", "1").build())
        .container("run", "image:1", List.of("nixek", "go"))
        .deadline(Duration.ofMinutes(2));
  }

  private static Volume configMap(String name) {
    return new VolumeBuilder().withName(name).withNewConfigMap().withName("cm").endConfigMap().build();
  }

  @Test
  void theSkeletonRunsOnceWithoutAnApiTokenAndSaysWhyItEnded() {
    Pod pod = pod().serviceAccount(null).request("cpu", "").request("memory", "1Gi").limit("memory", null).build();
    assertThat(pod.getMetadata().getLabels()).containsExactly(Map.entry("app.kubernetes.io/managed-by", "nixek-ci"),
        Map.entry("app.kubernetes.io/component", "thing"), Map.entry("extra", "1"));
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getController()).isTrue());
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getEnableServiceLinks()).isFalse();
    assertThat(pod.getSpec().getServiceAccountName()).isNull();
    assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(120L);
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getName()).isEqualTo("run");
    assertThat(c.getCommand()).containsExactly("nixek", "go");
    assertThat(c.getResources().getRequests()).containsOnlyKeys("memory");
    assertThat(c.getResources().getLimits()).isEmpty();
    assertThat(c.getTerminationMessagePath()).isEqualTo(OneShotNixPod.TERMINATION_LOG);
    assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
  }

  @Test
  void inputsAreReadOnlyAndTheNixStoreWritableRightAfterTheFirst() {
    Pod pod = pod().input("/a", configMap("a")).input("/b", configMap("b")).build();
    assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts())
        .extracting(VolumeMount::getMountPath, VolumeMount::getReadOnly)
        .containsExactly(tuple("/a", true), tuple("/nix", null), tuple("/b", true));
    assertThat(pod.getSpec().getVolumes()).extracting(Volume::getName).containsExactly("a", "nix-store", "b");
    assertThat(pod().build().getSpec().getVolumes()).extracting(Volume::getName).containsExactly("nix-store");
  }

  /** The Pod Security Standards' "restricted" profile, field by field, and the fsGroup the volumes need. */
  @Test
  void bothPodsPassTheRestrictedProfileAsTheImagesNixekUser() {
    Pod pod = pod().input("/a", configMap("a")).build();
    var ps = pod.getSpec().getSecurityContext();
    assertThat(ps.getRunAsNonRoot()).isTrue();
    assertThat(ps.getRunAsUser()).isEqualTo(65532L);
    assertThat(ps.getRunAsGroup()).isEqualTo(65532L);
    assertThat(ps.getFsGroup()).isEqualTo(65532L);
    assertThat(ps.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    var cs = pod.getSpec().getContainers().get(0).getSecurityContext();
    assertThat(cs.getAllowPrivilegeEscalation()).isFalse();
    assertThat(cs.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(cs.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(cs.getPrivileged()).isNull();
    assertThat(cs.getRunAsUser()).as("the pod's user holds for the container").isNull();
    assertThat(pod.getSpec().getContainers().get(0).getEnv()).singleElement()
        .satisfies(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("NIX_REMOTE=local"));
    // restricted allows these volume types only (hostPath is not among them)
    assertThat(pod.getSpec().getVolumes()).allSatisfy(v -> assertThat(v.getHostPath()).isNull());
  }
}
