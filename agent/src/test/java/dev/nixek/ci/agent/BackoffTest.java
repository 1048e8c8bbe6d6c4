package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesWithJitterUpToTheCapAndStartsOverAfterReset() {
    Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5));
    long[] ceilings = {200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (long ceiling : ceilings) {
      assertThat(b.next().toMillis()).isBetween(ceiling / 2, ceiling);
    }
    b.reset();
    assertThat(b.next().toMillis()).isBetween(100L, 200L);
  }

  @Test
  void delaysAreJittered() {
    Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1));
    long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> b.next()).distinct().count();
    assertThat(distinct).isGreaterThan(1);
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
