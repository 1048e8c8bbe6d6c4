package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Properties every option has, whoever adds it: one key each, a description, and failures that name the key. */
class ConfigOptionsTest {
  /** Values no option should take silently, whatever its type (a string option may accept them: that is fine). */
  private static final List<String> GARBAGE = List.of("-1", "0", "nope", "x y", "99999999999", "ftp://h", "A_B");

  @Test
  void everyOptionHasAUniqueKeyADescriptionAndADefaultThatParses() {
    assertThat(OperatorConfig.OPTIONS).extracting(ConfigOption::key).doesNotHaveDuplicates()
        .allSatisfy(k -> assertThat(k).matches("NIXEK_[A-Z0-9_]+"));
    assertThat(OperatorConfig.OPTIONS).allSatisfy(o -> {
      assertThat(o.description()).as(o.key()).isNotBlank();
      assertThat(o.defaultValue()).as(o.key()).isNotNull();
      o.read(Map.of());
    });
  }

  @Test
  void aValueAnOptionRejectsIsReportedWithTheOptionsKey() {
    int rejecting = 0;
    for (ConfigOption<?> o : OperatorConfig.OPTIONS) {
      for (String bad : GARBAGE) {
        try {
          o.read(Map.of(o.key(), bad));
        } catch (ConfigException e) {
          rejecting++;
          assertThat(e.getMessage()).startsWith(o.key() + "='" + bad + "': ").contains(o.description());
        }
      }
    }
    assertThat(rejecting).isPositive();
  }

  @Test
  void leaderElectionIsOffUnlessAskedForAndItsLeaseNameIsChecked() {
    LeaderElectionOptions off = OperatorConfig.fromEnv(Map.of()).leaderElection();
    assertThat(off).isEqualTo(new LeaderElectionOptions(false, "nixek-operator", ""));
    LeaderElectionOptions on = OperatorConfig.fromEnv(Map.of("NIXEK_LEADER_ELECTION", "true",
        "NIXEK_LEADER_LEASE_NAME", "ci-leader", "NIXEK_LEADER_IDENTITY", "nixek-ci-operator-7c9f-abcde"))
        .leaderElection();
    assertThat(on).isEqualTo(new LeaderElectionOptions(true, "ci-leader", "nixek-ci-operator-7c9f-abcde"));
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_LEADER_LEASE_NAME", "Leader!")))
        .hasMessageStartingWith("NIXEK_LEADER_LEASE_NAME='Leader!'");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_LEADER_ELECTION", "yes")))
        .hasMessageStartingWith("NIXEK_LEADER_ELECTION='yes': expected true or false");
  }
}
