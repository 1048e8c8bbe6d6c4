package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {
  @Test
  void everyOptionHasADefaultThatParses() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of());
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.LOCAL);
    assertThat(c.useSsa()).isTrue();
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.watchNamespaces()).isEmpty();
    assertThat(OperatorConfig.OPTIONS).allSatisfy(o -> {
      assertThat(o.key()).startsWith("NIXEK_");
      assertThat(o.description()).isNotBlank();
    });
  }

  @Test
  void valuesAreRead() {
    OperatorConfig c = OperatorConfig.fromEnv(Map.of("NIXEK_PROVIDER", "EC2", "NIXEK_WATCH_NAMESPACES", "a, b",
        "NIXEK_REPORT_URL", "https://ci.example.com/report", "NIXEK_USE_SSA", "false"));
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.EC2);
    assertThat(c.watchNamespaces()).containsExactly("a", "b");
    assertThat(c.reportUrl().getHost()).isEqualTo("ci.example.com");
    assertThat(c.useSsa()).isFalse();
  }

  @Test
  void aBadValueNamesTheOption() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_POLL_SECONDS", "soon")))
        .hasMessageStartingWith("NIXEK_POLL_SECONDS='soon': expected a number of seconds");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_PROVIDER", "gcp")))
        .hasMessageContaining("NIXEK_PROVIDER").hasMessageContaining("[local, ec2]");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_REPORT_URL", "ftp://x")))
        .hasMessageContaining("NIXEK_REPORT_URL").hasMessageContaining("http(s) URL");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_CLUSTER_ID", "Prod_1")))
        .hasMessageContaining("NIXEK_CLUSTER_ID").hasMessageContaining("DNS label");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_RECONCILE_THREADS", "0")))
        .hasMessageContaining("NIXEK_RECONCILE_THREADS").hasMessageContaining("from 1 to 200");
  }
}
