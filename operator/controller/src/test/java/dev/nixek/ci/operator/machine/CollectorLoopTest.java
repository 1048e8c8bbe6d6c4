package dev.nixek.ci.operator.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The collector runs only between start (becoming leader) and stop (losing leadership). */
class CollectorLoopTest {
  @Test
  void runsWhileStartedAndNotAfterStop() throws Exception {
    AtomicInteger lists = new AtomicInteger();
    MachineProvider counting = new MachineProvider() {
      @Override
      public String name() {
        return "counting";
      }

      @Override
      public boolean requiresImage() {
        return false;
      }

      @Override
      public boolean agentPowersOff() {
        return false;
      }

      @Override
      public Machine launch(LaunchRequest request) {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.Optional<Machine> describe(String machineId) {
        return java.util.Optional.empty();
      }

      @Override
      public java.util.Optional<Machine> findByLaunchToken(String launchToken) {
        return java.util.Optional.empty();
      }

      @Override
      public void terminate(String machineId) {}

      @Override
      public List<Machine> list() {
        lists.incrementAndGet();
        return List.of();
      }
    };
    MachineCollector collector = new MachineCollector(null, counting, List.of(), Duration.ZERO, Duration.ZERO,
        Duration.ofHours(1), java.time.Clock.systemUTC());
    try (CollectorLoop loop = new CollectorLoop(collector, Duration.ofMillis(50))) {
      Thread.sleep(200);
      assertThat(lists).as("not leading yet").hasValue(0);
      loop.start();
      loop.start(); // a second onStartLeading changes nothing
      await().until(() -> lists.get() >= 3);
      loop.stop();
      int after = lists.get();
      Thread.sleep(300);
      assertThat(lists.get()).as("stopped leading: no more runs").isLessThanOrEqualTo(after + 1);
      assertThat(loop.running()).isFalse();
      loop.start();
      await().until(() -> lists.get() > after + 2);
    }
  }
}
