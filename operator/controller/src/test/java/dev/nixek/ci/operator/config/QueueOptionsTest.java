package dev.nixek.ci.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class QueueOptionsTest {
  @Test
  void defaultsAreNoLimitAndKeepFinishedJobs() {
    QueueOptions q = OperatorConfig.fromEnv(Map.of()).queue();
    assertThat(q.limitFor("anything")).isZero();
    assertThat(q.ttlAfterFinished()).isEmpty();
  }

  @Test
  void namedNamespacesOverrideTheDefaultLimit() {
    QueueOptions q = QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE", "4",
        "NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", " team-a=1, team-b = 0 ",
        "NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED", "3600"));
    assertThat(q.limitFor("other")).isEqualTo(4);
    assertThat(q.limitFor("team-a")).isEqualTo(1);
    assertThat(q.limitFor("team-b")).as("0: unlimited").isZero();
    assertThat(q.ttlAfterFinished()).isEqualTo(Optional.of(Duration.ofHours(1)));
  }

  @Test
  void badValuesNameTheOptionAndTheEntry() {
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", "team-a")))
        .hasMessageStartingWith("NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE='team-a': 'team-a' is not namespace=limit");
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", "Team_A=2")))
        .hasMessageContaining("'Team_A' is not a namespace name");
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", "a=1,a=2")))
        .hasMessageContaining("namespace a is given twice");
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", "a=-1")))
        .hasMessageContaining("limit of a: expected an integer from 0 to 100000");
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE", "lots")))
        .hasMessageStartingWith("NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE='lots': expected an integer");
    assertThatThrownBy(() -> QueueOptions.fromEnv(Map.of("NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED", "1d")))
        .hasMessageStartingWith("NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED='1d': expected a number of seconds");
  }
}
