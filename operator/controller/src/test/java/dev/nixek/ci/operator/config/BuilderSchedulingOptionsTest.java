package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.operator.config.BuilderSchedulingOptions.KvmFallback;
import io.fabric8.kubernetes.api.model.Toleration;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuilderSchedulingOptionsTest {
  private static BuilderSchedulingOptions read(Map<String, String> env) {
    return OperatorConfig.fromEnv(env).images().builderScheduling();
  }

  @Test
  void byDefaultNothingIsRequestedOrSelectedAndAMissingKvmFails() {
    BuilderSchedulingOptions o = read(Map.of());
    assertThat(o.kvmResource()).isEmpty();
    assertThat(o.kvmFallback()).isEqualTo(KvmFallback.FAIL);
    assertThat(o.nodeSelector()).isEmpty();
    assertThat(o.tolerations()).isEmpty();
    assertThat(OperatorConfig.OPTIONS).extracting(o2 -> o2.key()).contains("NIXEK_BUILDER_KVM_RESOURCE",
        "NIXEK_BUILDER_KVM_FALLBACK", "NIXEK_BUILDER_NODE_SELECTOR", "NIXEK_BUILDER_TOLERATIONS");
  }

  @Test
  void aKvmNodePoolIsConfiguredWithAResourceASelectorAndTolerations() {
    BuilderSchedulingOptions o = read(Map.of(
        "NIXEK_BUILDER_KVM_RESOURCE", "devices.kubevirt.io/kvm",
        "NIXEK_BUILDER_KVM_FALLBACK", "emulate",
        "NIXEK_BUILDER_NODE_SELECTOR", "nixek.dev/kvm=true, kubernetes.io/arch=amd64,empty=",
        "NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"nixek.dev/kvm\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"},"
            + "{\"key\":\"spot\",\"value\":\"yes\",\"effect\":\"NoExecute\",\"tolerationSeconds\":60}]"));
    assertThat(o.kvmResource()).isEqualTo("devices.kubevirt.io/kvm");
    assertThat(o.kvmFallback()).isEqualTo(KvmFallback.EMULATE);
    assertThat(o.nodeSelector()).containsExactly(Map.entry("nixek.dev/kvm", "true"),
        Map.entry("kubernetes.io/arch", "amd64"), Map.entry("empty", ""));
    assertThat(o.tolerations()).extracting(Toleration::getKey).containsExactly("nixek.dev/kvm", "spot");
    assertThat(o.tolerations().get(1).getTolerationSeconds()).isEqualTo(Duration.ofSeconds(60).toSeconds());
    assertThat(read(Map.of("NIXEK_BUILDER_KVM_RESOURCE", "none")).kvmResource()).isEmpty();
    assertThat(read(Map.of("NIXEK_BUILDER_KVM_RESOURCE", "squat.ai/kvm")).kvmResource()).isEqualTo("squat.ai/kvm");
  }

  @Test
  void badValuesStopStartUpNamingTheOption() {
    assertBad("NIXEK_BUILDER_KVM_RESOURCE", "kvm", "expected an extended resource name");
    assertBad("NIXEK_BUILDER_KVM_RESOURCE", "Devices.io/kvm", "expected an extended resource name");
    assertBad("NIXEK_BUILDER_KVM_RESOURCE", "kubernetes.io/kvm", "not one in kubernetes.io");
    assertBad("NIXEK_BUILDER_KVM_FALLBACK", "tcg", "expected one of [fail, emulate]");
    assertBad("NIXEK_BUILDER_NODE_SELECTOR", "kvm", "'kvm': expected key=value");
    assertBad("NIXEK_BUILDER_NODE_SELECTOR", "a=b,a=c", "'a' given twice");
    assertBad("NIXEK_BUILDER_NODE_SELECTOR", "a=b c", "expected key=value");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "{\"key\":\"kvm\"}", "expected a JSON list of tolerations");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"kvm\",\"opertor\":\"Exists\"}]", "unknown field [opertor]");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"kvm\",\"operator\":\"In\"}]", "operator must be Equal or Exists");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"kvm\",\"operator\":\"Exists\",\"value\":\"x\"}]",
        "operator Exists takes no value");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"value\":\"x\"}]", "an empty key needs operator Exists");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"kvm\",\"effect\":\"NoScheduled\"}]", "effect must be");
    assertBad("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"kvm\",\"tolerationSeconds\":5}]",
        "tolerationSeconds needs effect NoExecute");
  }

  private static void assertBad(String key, String value, String message) {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of(key, value))).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(key + "=").hasMessageContaining(message);
  }
}
