package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuilderPodsTest {
  private static final OperatorConfig CONFIG = OperatorConfig.fromEnv(Map.of(
      "NIXEK_IMAGE_NIXPKGS", ImageIdentityTest.PIN,
      "NIXEK_IMAGE_BUCKET", "images",
      "NIXEK_CLUSTER_ID", "prod",
      "NIXEK_BUILDER_IMAGE", "registry.example/nixek-builder:1",
      "NIXEK_BUILDER_SERVICE_ACCOUNT", "builder",
      "NIXEK_BUILDER_MEMORY_LIMIT", "6Gi"));

  private static NixekMachineImage image() {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("rust").withUid("uid-1").build());
    image.setSpec(ImageIdentityTest.spec(ImageIdentityTest.MACHINE));
    image.getSpec().diskSizeGiB = 16;
    return image;
  }

  @Test
  void thePodRunsTheBuilderOnceWithoutCredentialsOrAnApiToken() {
    NixekMachineImage image = image();
    ImageIdentity id = ImageIdentity.of(image.getSpec(), CONFIG.images(), "team-a");
    Pod pod = new BuilderPods(CONFIG.images(), CONFIG.aws(), "prod").pod(image, id, "nixek-build-x", "images",
        "nixek-images/prod/" + id.hash() + "/disk-image", "nixek-build-x-grant");
    assertThat(pod.getMetadata().getName()).isEqualTo("nixek-build-x");
    assertThat(pod.getMetadata().getNamespace()).isEqualTo("ci");
    assertThat(pod.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "image-builder")
        .containsEntry("app.kubernetes.io/managed-by", "nixek-ci").containsEntry("ci.nixek.dev/image-hash",
            id.shortHash());
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getUid()).isEqualTo("uid-1");
      assertThat(o.getKind()).isEqualTo("NixekMachineImage");
      assertThat(o.getController()).isTrue();
    });
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("builder");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(14400L);
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example/nixek-builder:1");
    assertThat(c.getEnv()).as("nothing but nix's store choice").extracting(e -> e.getName() + "=" + e.getValue())
        .containsExactly("NIX_REMOTE=local");
    assertThat(c.getEnvFrom()).isEmpty();
    // one bucket and key, written through the grant: no region, endpoint or credentials of its own
    assertThat(c.getCommand()).containsExactly("/opt/nixek/bin/nixek", "builder", "build",
        "--expr-file", "/nixek/build/image.nix", "--bucket", "images", "--key",
        "nixek-images/prod/" + id.hash() + "/disk-image", "--upload-grant", "/nixek/upload/upload.json",
        "--termination-log", "/dev/termination-log");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory", "ephemeral-storage");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("6Gi");
    assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(pod.getSpec().getVolumes()).hasSize(3)
        .allSatisfy(v -> assertThat(v.getProjected()).as("no projected (service account or IRSA) token").isNull())
        .anySatisfy(v -> assertThat(v.getConfigMap().getName()).isEqualTo("nixek-build-x"))
        .anySatisfy(v -> {
          assertThat(v.getSecret()).isNotNull();
          assertThat(v.getSecret().getSecretName()).as("the upload grant").isEqualTo("nixek-build-x-grant");
          assertThat(v.getSecret().getDefaultMode()).isEqualTo(0440);
        })
        .anySatisfy(v -> assertThat(v.getEmptyDir()).as("a writable Nix store").isNotNull());
    assertThat(c.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getMountPath()).isEqualTo("/nix");
      assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    });
    // no KVM configured: nothing requested, no placement, the builder's default fallback (fail)
    assertThat(c.getResources().getLimits()).containsOnlyKeys("memory", "cpu", "ephemeral-storage");
    assertThat(pod.getSpec().getNodeSelector()).isNullOrEmpty();
    assertThat(pod.getSpec().getTolerations()).isNullOrEmpty();
  }

  @Test
  void aKvmDevicePluginsResourceIsInTheLimitsAndThePodGoesToTheKvmNodes() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of(
        "NIXEK_BUILDER_KVM_RESOURCE", "devices.kubevirt.io/kvm",
        "NIXEK_BUILDER_NODE_SELECTOR", "nixek.dev/kvm=true",
        "NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"nixek.dev/kvm\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]"));
    NixekMachineImage image = image();
    Pod pod = new BuilderPods(config.images(), config.aws(), "c").pod(image,
        ImageIdentity.of(image.getSpec(), config.images(), "team-a"), "p", "b", "k", "p-grant");
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getResources().getLimits().get("devices.kubevirt.io/kvm").toString()).isEqualTo("1");
    assertThat(c.getResources().getRequests()).doesNotContainKey("devices.kubevirt.io/kvm");
    assertThat(pod.getSpec().getNodeSelector()).containsExactly(Map.entry("nixek.dev/kvm", "true"));
    assertThat(pod.getSpec().getTolerations()).singleElement().satisfies(t -> {
      assertThat(t.getKey()).isEqualTo("nixek.dev/kvm");
      assertThat(t.getOperator()).isEqualTo("Exists");
      assertThat(t.getEffect()).isEqualTo("NoSchedule");
    });
    assertThat(c.getCommand()).doesNotContain("--kvm-fallback");
  }

  @Test
  void theEmulationFallbackIsHandedToTheBuilder() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("NIXEK_BUILDER_KVM_FALLBACK", "emulate"));
    NixekMachineImage image = image();
    Pod pod = new BuilderPods(config.images(), config.aws(), "c").pod(image,
        ImageIdentity.of(image.getSpec(), config.images(), "team-a"), "p", "b", "k", "p-grant");
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getCommand()).containsSubsequence("--kvm-fallback", "emulate");
    assertThat(c.getResources().getLimits()).containsOnlyKeys("memory", "cpu", "ephemeral-storage");
  }

  @Test
  void aBuildCommandIsHandedOnButNoS3EndpointTheGrantsUrlsNameIt() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("NIXEK_S3_ENDPOINT", "http://127.0.0.1:9000",
        "NIXEK_S3_PATH_STYLE", "true", "NIXEK_BUILDER_BUILD_COMMAND", "nix-build --no-out-link \"$NIXEK_IMAGE_EXPR\" -j4",
        "NIXEK_BUILDER_CPU_REQUEST", "none"));
    NixekMachineImage image = image();
    Pod pod = new BuilderPods(config.images(), config.aws(), "c").pod(image,
        ImageIdentity.of(image.getSpec(), config.images(), "team-a"), "p", "b", "k", "p-grant");
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getCommand()).containsSubsequence("--build-command", "nix-build --no-out-link \"$NIXEK_IMAGE_EXPR\" -j4")
        .doesNotContain("--endpoint", "--path-style", "--region");
    assertThat(c.getResources().getRequests()).doesNotContainKey("cpu");
  }

  @Test
  void theConfigMapCarriesTheMachineAndAnExpressionOfTheIdentitysInputsOnly() {
    NixekMachineImage image = image();
    ImageIdentity id = ImageIdentity.of(image.getSpec(), CONFIG.images(), "team-a");
    ConfigMap cm = new BuilderPods(CONFIG.images(), CONFIG.aws(), "prod").configMap(image, id, "nixek-build-x");
    assertThat(cm.getImmutable()).isTrue();
    assertThat(cm.getData().get("machine.nix")).isEqualTo(ImageIdentityTest.MACHINE + "\n");
    assertThat(cm.getData().get("image.nix")).isEqualTo("""
        # Generated by nixek-ci (nixek-image/v1, image %s):
        # the EC2 image of the NixOS module in machine.nix.
        import "/opt/nixek/src/nix/machine.nix" {
          machineFile = toString ./machine.nix;
          nixpkgs = "%s";
          system = "x86_64-linux";
          agentJar = "/opt/nixek/nixek-agent.jar";
          diskSizeGiB = "16";
        }
        """.formatted(id.hash(), ImageIdentityTest.PIN));
    // another image of the same identity gets the same content
    NixekMachineImage other = image();
    other.getMetadata().setName("other");
    assertThat(new BuilderPods(CONFIG.images(), CONFIG.aws(), "prod").configMap(other, id, "nixek-build-x")
        .getData()).isEqualTo(cm.getData());
  }

  @Test
  void nixStringsAreEscaped() {
    assertThat(BuilderPods.nixString("a\"b\\c${d}")).isEqualTo("\"a\\\"b\\\\c\\${d}\"");
  }
}
