package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ImageDelaysTest {
  private static final ImageDelays DELAYS = new ImageDelays(Duration.ofSeconds(10), Duration.ofMinutes(2));
  private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

  @Test
  void pollsSlowDownWithTheImportsAgeWithinTheBounds() {
    assertThat(DELAYS.poll(null, NOW)).isEqualTo(Duration.ofSeconds(10));
    assertThat(DELAYS.poll(NOW.minusSeconds(20).toString(), NOW)).isEqualTo(Duration.ofSeconds(10));
    assertThat(DELAYS.poll(NOW.minusSeconds(200).toString(), NOW)).isEqualTo(Duration.ofSeconds(50));
    assertThat(DELAYS.poll(NOW.minus(Duration.ofHours(1)).toString(), NOW)).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void retriesDoubleFromTheMinimumUpToTheMaximum() {
    assertThat(DELAYS.retry(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(DELAYS.retry(2)).isEqualTo(Duration.ofSeconds(20));
    assertThat(DELAYS.retry(4)).isEqualTo(Duration.ofSeconds(80));
    assertThat(DELAYS.retry(5)).isEqualTo(Duration.ofMinutes(2));
    assertThat(DELAYS.retry(1000)).isEqualTo(Duration.ofMinutes(2));
  }
}
