package dev.nixek.ci.operator.collect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import dev.nixek.ci.operator.machine.MachineCollector;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/** The collector runs only between start (becoming leader) and stop (losing leadership). */
class CollectorLoopTest {
  @Test
  void runsWhileStartedAndNotAfterStop() throws Exception {
    FakeMachineProvider provider = new FakeMachineProvider();
    IntSupplier lists = provider::listCalls;
    MachineCollector collector = new MachineCollector(null, provider, List.of(), Duration.ZERO, Duration.ZERO,
        Duration.ofHours(1), java.time.Clock.systemUTC());
    try (CollectorLoop loop = new CollectorLoop("machine collector", collector::collect, Duration.ZERO,
        Duration.ofMillis(50))) {
      Thread.sleep(200);
      assertThat(lists.getAsInt()).as("not leading yet").isZero();
      loop.start();
      loop.start(); // a second onStartLeading changes nothing
      await().until(() -> lists.getAsInt() >= 3);
      loop.stop();
      int after = lists.getAsInt();
      Thread.sleep(300);
      assertThat(lists.getAsInt()).as("stopped leading: no more runs").isLessThanOrEqualTo(after + 1);
      assertThat(loop.running()).isFalse();
      loop.start();
      await().until(() -> lists.getAsInt() > after + 2);
    }
  }
}
