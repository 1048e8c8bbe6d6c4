package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.image.BuilderPods;
import dev.nixek.ci.operator.image.ImageIdentity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * CPU and ephemeral-storage limits of evaluation and builder pods and the size limit of their {@code /nix}
 * (docs/evaluation.md#options, docs/images.md#configuration): defaults, configured values, none, and a limit below
 * its request refused at start.
 */
class PodLimitsTest {
  private static final Map<String, String> BASE = Map.of("NIXEK_IMAGE_NIXPKGS",
      "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567",
      "NIXEK_IMAGE_BUCKET", "images", "NIXEK_CLUSTER_ID", "prod");

  private static OperatorConfig config(String... keyValues) {
    Map<String, String> env = new HashMap<>(BASE);
    for (int i = 0; i < keyValues.length; i += 2) {
      env.put(keyValues[i], keyValues[i + 1]);
    }
    return OperatorConfig.fromEnv(env);
  }

  private static Pod evaluationPod(OperatorConfig config) {
    var job = new dev.nixek.ci.api.v1alpha1.NixekJob();
    job.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withNamespace("ci").withName("x")
        .withUid("uid-1").build());
    job.setSpec(new dev.nixek.ci.api.v1alpha1.NixekJobSpec());
    job.getSpec().nix = "{ steps = [ { name = \"a\"; run = \"true\"; } ]; }";
    return new dev.nixek.ci.operator.evaluation.EvaluationPods(config).pod(job);
  }

  private static Pod builderPod(OperatorConfig config) {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withNamespace("ci").withName("m")
        .withUid("uid-2").build());
    image.setSpec(new dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec());
    image.getSpec().machine = "{ pkgs, ... }: { }";
    ImageIdentity id = ImageIdentity.of(image.getSpec(), config.images(), "ci");
    return new BuilderPods(config.images(), config.aws(), "prod").pod(image, id, "nixek-build-x", "images",
        "nixek-images/prod/" + id.hash() + "/disk-image", "nixek-build-x-grant");
  }

  private static Map<String, String> amounts(Map<String, Quantity> quantities) {
    Map<String, String> out = new HashMap<>();
    quantities.forEach((k, v) -> out.put(k, v.toString()));
    return out;
  }

  private static String nixSizeLimit(Pod pod) {
    Volume nix = pod.getSpec().getVolumes().stream().filter(v -> v.getEmptyDir() != null).findFirst().orElseThrow();
    Quantity size = nix.getEmptyDir().getSizeLimit();
    return size == null ? null : size.toString();
  }

  @Test
  void evaluationPodsHaveCpuAndStorageLimitsAndABoundedNixStoreByDefault() {
    Container c = evaluationPod(config()).getSpec().getContainers().get(0);
    assertThat(amounts(c.getResources().getRequests())).containsExactlyInAnyOrderEntriesOf(Map.of("cpu", "500m",
        "memory", "1Gi", "ephemeral-storage", "1Gi"));
    assertThat(amounts(c.getResources().getLimits())).containsExactlyInAnyOrderEntriesOf(Map.of("cpu", "2",
        "memory", "4Gi", "ephemeral-storage", "10Gi"));
    assertThat(nixSizeLimit(evaluationPod(config()))).isEqualTo("8Gi");
  }

  @Test
  void builderPodsHaveCpuAndStorageLimitsAndABoundedNixStoreByDefault() {
    Container c = builderPod(config()).getSpec().getContainers().get(0);
    assertThat(amounts(c.getResources().getRequests())).containsExactlyInAnyOrderEntriesOf(Map.of("cpu", "1",
        "memory", "2Gi", "ephemeral-storage", "30Gi"));
    assertThat(amounts(c.getResources().getLimits())).containsExactlyInAnyOrderEntriesOf(Map.of("cpu", "4",
        "memory", "8Gi", "ephemeral-storage", "60Gi"));
    assertThat(nixSizeLimit(builderPod(config()))).isEqualTo("50Gi");
  }

  @Test
  void eachIsConfigurableAndNoneLeavesItOut() {
    OperatorConfig own = config("NIXEK_EVAL_CPU_LIMIT", "1500m", "NIXEK_EVAL_STORAGE_REQUEST", "2Gi",
        "NIXEK_EVAL_STORAGE_LIMIT", "20Gi", "NIXEK_EVAL_NIX_SIZE_LIMIT", "16Gi", "NIXEK_BUILDER_CPU_LIMIT", "8",
        "NIXEK_BUILDER_STORAGE_LIMIT", "100Gi", "NIXEK_BUILDER_NIX_SIZE_LIMIT", "90Gi");
    Container eval = evaluationPod(own).getSpec().getContainers().get(0);
    assertThat(amounts(eval.getResources().getLimits())).containsEntry("cpu", "1500m")
        .containsEntry("ephemeral-storage", "20Gi");
    assertThat(amounts(eval.getResources().getRequests())).containsEntry("ephemeral-storage", "2Gi");
    assertThat(nixSizeLimit(evaluationPod(own))).isEqualTo("16Gi");
    Container build = builderPod(own).getSpec().getContainers().get(0);
    assertThat(amounts(build.getResources().getLimits())).containsEntry("cpu", "8")
        .containsEntry("ephemeral-storage", "100Gi");
    assertThat(nixSizeLimit(builderPod(own))).isEqualTo("90Gi");

    OperatorConfig none = config("NIXEK_EVAL_CPU_LIMIT", "none", "NIXEK_EVAL_STORAGE_REQUEST", "none",
        "NIXEK_EVAL_STORAGE_LIMIT", "none", "NIXEK_EVAL_NIX_SIZE_LIMIT", "none", "NIXEK_BUILDER_CPU_LIMIT", "none",
        "NIXEK_BUILDER_STORAGE_LIMIT", "none", "NIXEK_BUILDER_NIX_SIZE_LIMIT", "none");
    assertThat(evaluationPod(none).getSpec().getContainers().get(0).getResources().getLimits())
        .containsOnlyKeys("memory");
    assertThat(evaluationPod(none).getSpec().getContainers().get(0).getResources().getRequests())
        .doesNotContainKey("ephemeral-storage");
    assertThat(nixSizeLimit(evaluationPod(none))).isNull();
    assertThat(builderPod(none).getSpec().getContainers().get(0).getResources().getLimits())
        .containsOnlyKeys("memory");
    assertThat(nixSizeLimit(builderPod(none))).isNull();
  }

  /** The API server would refuse every such pod; the operator refuses to start instead, naming both options. */
  @Test
  void aLimitBelowItsRequestIsRefusedAtStart() {
    assertThatThrownBy(() -> config("NIXEK_EVAL_CPU_REQUEST", "3"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("NIXEK_EVAL_CPU_LIMIT=2 is less than NIXEK_EVAL_CPU_REQUEST=3: Kubernetes refuses a pod whose "
            + "limit is below its request");
    assertThatThrownBy(() -> config("NIXEK_EVAL_STORAGE_LIMIT", "512Mi"))
        .hasMessageStartingWith("NIXEK_EVAL_STORAGE_LIMIT=512Mi is less than NIXEK_EVAL_STORAGE_REQUEST=1Gi");
    assertThatThrownBy(() -> config("NIXEK_EVAL_MEMORY_LIMIT", "500Mi"))
        .hasMessageStartingWith("NIXEK_EVAL_MEMORY_LIMIT=500Mi is less than NIXEK_EVAL_MEMORY_REQUEST=1Gi");
    assertThatThrownBy(() -> config("NIXEK_BUILDER_CPU_LIMIT", "500m"))
        .hasMessageStartingWith("NIXEK_BUILDER_CPU_LIMIT=500m is less than NIXEK_BUILDER_CPU_REQUEST=1");
    assertThatThrownBy(() -> config("NIXEK_BUILDER_STORAGE_REQUEST", "80Gi"))
        .hasMessageStartingWith("NIXEK_BUILDER_STORAGE_LIMIT=60Gi is less than NIXEK_BUILDER_STORAGE_REQUEST=80Gi");
    assertThatThrownBy(() -> config("NIXEK_EVAL_NIX_SIZE_LIMIT", "lots"))
        .hasMessageContaining("NIXEK_EVAL_NIX_SIZE_LIMIT");
    // equal is fine, and a request with no limit (or the reverse) too
    assertThat(config("NIXEK_EVAL_CPU_REQUEST", "2").evaluation().cpuRequest()).isEqualTo("2");
    assertThat(config("NIXEK_BUILDER_CPU_LIMIT", "none", "NIXEK_BUILDER_CPU_REQUEST", "16").images()
        .builderCpuRequest()).isEqualTo("16");
  }
}
