package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageOptionsTest {
  @Test
  void defaultsNeedNoAwsAndNoBucket() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of());
    assertThat(c.aws().region()).isEmpty();
    assertThat(c.aws().ec2Endpoint()).isEmpty();
    assertThat(c.images().bucket()).isEmpty();
    assertThat(c.images().nixpkgs()).isEmpty();
    assertThat(c.images().system()).isEqualTo("x86_64-linux");
    assertThat(c.images().builderCommand()).containsExactly("/opt/nixek/bin/nixek", "builder");
    assertThat(c.images().builderMemoryLimit()).isEqualTo("8Gi");
    assertThat(c.images().importRole()).isEqualTo("vmimport");
    assertThat(c.images().pollMin()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.images().agentVersion()).isNotBlank();
    assertThat(c.images().agentJar()).as("where image/assemble.sh puts it").isEqualTo("/opt/nixek/nixek-agent.jar");
    List<String> keys = OperatorConfig.OPTIONS.stream().map(ConfigOption::key).toList();
    assertThat(new HashSet<>(keys)).as("no key twice").hasSameSizeAs(keys);
  }

  @Test
  void valuesAreRead() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("NIXEK_AWS_REGION", "eu-west-1",
        "NIXEK_S3_ENDPOINT", "http://127.0.0.1:9000", "NIXEK_S3_PATH_STYLE", "true",
        "NIXEK_IMAGE_BUCKET", "ci-images", "NIXEK_IMAGE_NIXPKGS", "github:NixOS/nixpkgs/abc",
        "NIXEK_BUILDER_MEMORY_LIMIT", "none", "NIXEK_IMAGE_POLL_MAX_SECONDS", "60"));
    assertThat(c.aws().region()).isEqualTo("eu-west-1");
    assertThat(c.aws().s3Endpoint()).hasValueSatisfying(u -> assertThat(u.getPort()).isEqualTo(9000));
    assertThat(c.aws().s3PathStyle()).isTrue();
    assertThat(c.images().bucket()).isEqualTo("ci-images");
    assertThat(c.images().nixpkgs()).isEqualTo("github:NixOS/nixpkgs/abc");
    assertThat(c.images().builderMemoryLimit()).isEmpty();
    assertThat(c.images().pollMax()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void badValuesNameTheOption() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_BUCKET", "No_Such")))
        .hasMessageStartingWith("NIXEK_IMAGE_BUCKET='No_Such': expected an S3 bucket name");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", "nixpkgs \"x\"")))
        .hasMessageStartingWith("NIXEK_IMAGE_NIXPKGS=");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_BUILDER_CPU_REQUEST", "lots")))
        .hasMessageContaining("a quantity like 500m");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_AGENT_JAR", "nixek-agent.jar")))
        .hasMessageStartingWith("NIXEK_IMAGE_AGENT_JAR='nixek-agent.jar': expected an absolute path");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_SYSTEM", "riscv64-linux")))
        .hasMessageContaining("NIXEK_IMAGE_SYSTEM");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_POLL_MIN_SECONDS", "30",
        "NIXEK_IMAGE_POLL_MAX_SECONDS", "10"))).hasMessageContaining("NIXEK_IMAGE_POLL_MAX_SECONDS");
  }
}
