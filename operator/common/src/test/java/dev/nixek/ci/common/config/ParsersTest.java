package dev.nixek.ci.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared parsers, through {@link ConfigOption} as the operator and the report API use them. */
class ParsersTest {
  private static final ConfigOption<List<String>> NAMESPACES = new ConfigOption<>("NIXEK_TEST_NAMESPACES", "",
      "namespaces", Parsers.dnsLabels());

  @Test
  void dnsLabelsAreTrimmedKeptOnceAndEmptyMeansNone() {
    assertThat(NAMESPACES.read(Map.of())).isEmpty();
    assertThat(NAMESPACES.read(Map.of("NIXEK_TEST_NAMESPACES", " ci, team-b ,ci"))).containsExactly("ci", "team-b");
  }

  @Test
  void aBadLabelOrAnEmptyItemIsReportedWithTheOptionsKey() {
    assertThatThrownBy(() -> NAMESPACES.read(Map.of("NIXEK_TEST_NAMESPACES", "ci,Team_B")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("NIXEK_TEST_NAMESPACES='ci,Team_B': 'Team_B': expected a lower-case DNS label");
    assertThatThrownBy(() -> NAMESPACES.read(Map.of("NIXEK_TEST_NAMESPACES", "ci,,b")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'': expected a lower-case DNS label");
  }

  @Test
  void anUnsetRequiredValueSaysSo() {
    ConfigOption<Integer> port = new ConfigOption<>("NIXEK_TEST_PORT", null, "a port", Parsers.intRange(0, 65535));
    assertThatThrownBy(() -> port.read(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("NIXEK_TEST_PORT=<unset>: expected an integer (a port)");
  }
}
