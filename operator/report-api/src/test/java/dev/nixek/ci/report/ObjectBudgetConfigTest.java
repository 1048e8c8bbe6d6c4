package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Maximums that add up past etcd's object limit stop start-up, with a message naming the options. */
class ObjectBudgetConfigTest {
  @Test
  void maximumsThatCannotFitAreRefusedNamingTheOptions() {
    for (Map<String, String> env : new Map[] {
        Map.of("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "1048576"),
        Map.of("NIXEK_OUTPUT_TAIL_BYTES", "65536", "NIXEK_OUTPUT_TAIL_BUDGET_BYTES", "1048576"),
        Map.of("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "400000")}) {
      assertThatThrownBy(() -> ReportApiConfig.fromEnv(env)).as("%s", env).isInstanceOf(ConfigException.class)
          .hasMessageContaining("NIXEK_REPORT_EVALUATION_LIMIT_BYTES=")
          .hasMessageContaining("NIXEK_OUTPUT_TAIL_BYTES=")
          .hasMessageContaining("NIXEK_OUTPUT_TAIL_BUDGET_BYTES=")
          .hasMessageContaining("etcd's object limit of 1572864 bytes");
    }
  }

  @Test
  void theBudgetCountsTheCheckoutStepOfAJobAtTheStepLimit() {
    // fits 1,000 steps, not 1,000 steps and the checkout step 0 a job with spec.source gets
    assertThatThrownBy(() -> ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "236000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("a job of up to 1000 steps and its checkout step (1001 in status) grow to 1573128 bytes")
        .hasMessageContaining("step fields 1001000");
    assertThat(ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "235736"))
        .evaluationLimitBytes()).isEqualTo(235736);
  }

  @Test
  void maximumsThatFitStart() {
    assertThat(ReportApiConfig.fromEnv(Map.of()).evaluationLimitBytes()).isEqualTo(229376);
    assertThat(ReportApiConfig.fromEnv(Map.of("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "131072",
        "NIXEK_OUTPUT_TAIL_BYTES", "8192", "NIXEK_OUTPUT_TAIL_BUDGET_BYTES", "262144")).outputTailBytes())
        .isEqualTo(8192);
  }
}
