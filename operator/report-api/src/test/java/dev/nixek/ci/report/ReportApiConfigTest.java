package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReportApiConfigTest {
  @Test
  void defaults() {
    ReportApiConfig c = ReportApiConfig.fromEnv(Map.of());
    assertThat(c).isEqualTo(new ReportApiConfig("0.0.0.0", 8080, 32768, 229376, 4096, 131072, "nixek-report-api", List.of(),
        16, Duration.ofSeconds(30), 1024, Duration.ofSeconds(30), 30, 16, 1000, 1000, 1L << 30, 10L << 30, 0,
        new dev.nixek.ci.common.seal.SealKeyOptions("nixek-ci-seal-key", "default")));
  }

  @Test
  void blankMeansDefaultAndNamespacesAreTrimmed() {
    ReportApiConfig c = ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_PORT", " ", "NIXEK_WATCH_NAMESPACES",
        "ci, team-b ,ci", "NIXEK_REPORT_PORT_UNRELATED", "x"));
    assertThat(c.port()).isEqualTo(8080);
    assertThat(c.watchNamespaces()).containsExactly("ci", "team-b");
  }

  @Test
  void everyOptionIsDescribed() {
    String help = ReportApiConfig.describe();
    for (ConfigOption<?> o : ReportApiConfig.OPTIONS) {
      assertThat(help).contains(o.key());
      assertThat(o.description()).isNotBlank();
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "NIXEK_REPORT_PORT|http",
      "NIXEK_REPORT_PORT|65536",
      "NIXEK_REPORT_PORT|-1",
      "NIXEK_REPORT_BODY_LIMIT_BYTES|100",
      "NIXEK_REPORT_BODY_LIMIT_BYTES|32k",
      "NIXEK_OUTPUT_TAIL_BYTES|0",
      "NIXEK_OUTPUT_TAIL_BUDGET_BYTES|99999999",
      "NIXEK_REPORT_FIELD_MANAGER|two words",
      "NIXEK_WATCH_NAMESPACES|ci,Team_B",
      "NIXEK_REPORT_WORKER_THREADS|0",
      "NIXEK_REPORT_MAX_CONNECTIONS|0",
      "NIXEK_REPORT_REQUEST_TIMEOUT_SECONDS|0",
      "NIXEK_REPORT_REQUEST_TIMEOUT_SECONDS|601",
      "NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE|0",
      "NIXEK_REPORT_JOB_QUEUE_LIMIT|2000",
      "NIXEK_REPORT_JOB_REPORTS_PER_SECOND|0",
      "NIXEK_READY_MAX_AGE_SECONDS|0",
      "NIXEK_REPORT_METRICS_PORT|-2",
      "NIXEK_REPORT_METRICS_PORT|65536",
      "NIXEK_REPORT_BIND|0.0.0.0 1"})
  void anInvalidValueNamesItsOption(String option, String value) {
    assertThatThrownBy(() -> ReportApiConfig.fromEnv(Map.of(option, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(option + "=");
  }

  @Test
  void metricsCannotShareTheAgentsPort() {
    assertThatThrownBy(() -> ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_PORT", "8080",
        "NIXEK_REPORT_METRICS_PORT", "8080")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("NIXEK_REPORT_METRICS_PORT=8080 is NIXEK_REPORT_PORT");
    assertThat(ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_METRICS_PORT", "-1")).metricsPort()).isEqualTo(-1);
  }
}
