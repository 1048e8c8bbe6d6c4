package dev.nixek.ci.operator.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.TestJobs;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The collector's decisions, machine by machine. */
class MachineCollectorTest {
  private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
  private static final Duration GRACE = Duration.ofMinutes(5);
  private final MachineCollector collector = new MachineCollector(null, null, List.of(), GRACE,
      Duration.ofMinutes(30), Duration.ofHours(1), Clock.systemUTC());

  private static Machine machine(String id, String token, Duration age) {
    return new Machine(id, MachineState.RUNNING, "uid-1", token, NOW.minus(age), null);
  }

  private static NixekJob job(String launchToken, String instanceId) {
    NixekJob j = TestJobs.job("ci", "j", TestJobs.run("a", "true"));
    j.getMetadata().setUid("uid-1");
    NixekJobStatus s = new NixekJobStatus();
    s.launchToken = launchToken;
    s.instanceId = instanceId;
    j.setStatus(s);
    return j;
  }

  private static NixekJob ended(NixekJob j, Instant at) {
    j.getStatus().conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.TRUE, "Succeeded", "ok", 1L, at);
    j.getStatus().completionTime = at.toString();
    return j;
  }

  private Optional<String> decide(Machine m, NixekJob j) {
    return collector.decide(m, j, NOW);
  }

  @Test
  void aMachineWhoseJobIsGoneIsCollectedOnlyAfterTheGrace() {
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(1)), null)).isEmpty();
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(6)), null)).hasValueSatisfying(
        why -> assertThat(why).contains("is gone"));
  }

  @Test
  void aMachineOfAnEndedJobIsCollectedGraceAfterTheEnd() {
    assertThat(decide(machine("i-1", "t", Duration.ofHours(1)), ended(job("t", "i-1"), NOW.minusSeconds(60))))
        .isEmpty();
    assertThat(decide(machine("i-1", "t", Duration.ofHours(1)), ended(job("t", "i-1"), NOW.minusSeconds(301))))
        .hasValueSatisfying(why -> assertThat(why).contains("ended"));
  }

  @Test
  void theCurrentMachineOfALiveJobStaysEvenBeforeItsIdIsRecorded() {
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(20)), job("t", "i-1"))).isEmpty();
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(20)), job("t", null))).as("crash point (c)").isEmpty();
    assertThat(decide(machine("i-1", null, Duration.ofMinutes(20)), job("t", null)))
        .as("unknown token: never called superseded").isEmpty();
  }

  @Test
  void aMachineOfAnotherLaunchOfALiveJobIsCollectedAfterTheGrace() {
    assertThat(decide(machine("i-old", "t1", Duration.ofMinutes(1)), job("t2", "i-new"))).isEmpty();
    assertThat(decide(machine("i-old", "t1", Duration.ofMinutes(6)), job("t2", "i-new")))
        .hasValueSatisfying(why -> assertThat(why).contains("not the current launch"));
  }

  @Test
  void anythingOlderThanItsJobsTimeLimitPlusSlackIsReaped() {
    NixekJob j = job("t", "i-1");
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(89)), j)).isEmpty();
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(91)), j))
        .hasValueSatisfying(why -> assertThat(why).contains("time limit plus slack (5400s)"));
    j.getSpec().timeoutSeconds = 60L;
    assertThat(decide(machine("i-1", "t", Duration.ofMinutes(32)), j))
        .hasValueSatisfying(why -> assertThat(why).contains("(1860s)"));
  }
}
