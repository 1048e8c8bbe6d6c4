package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void theDelayIsTheTimeWaitedBetweenFiveSecondsAndFiveMinutes() {
    assertThat(RetryBackoff.after("2026-01-01T00:00:00Z", T0)).isEqualTo(Duration.ofSeconds(5));
    assertThat(RetryBackoff.after("2026-01-01T00:00:00Z", T0.plusSeconds(12))).isEqualTo(Duration.ofSeconds(12));
    assertThat(RetryBackoff.after("2026-01-01T00:00:00Z", T0.plusSeconds(3600))).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void attemptsAtThatDelayDoubleTheirSpacingUpToFiveMinutes() {
    List<Long> attempts = new ArrayList<>();
    Instant now = T0;
    for (int i = 0; i < 10; i++) {
      now = now.plus(RetryBackoff.after(T0.toString(), now));
      attempts.add(Duration.between(T0, now).toSeconds());
    }
    assertThat(attempts).containsExactly(5L, 10L, 20L, 40L, 80L, 160L, 320L, 620L, 920L, 1220L);
  }

  @Test
  void anUnknownStartIsNow() {
    assertThat(RetryBackoff.after(null, T0)).isEqualTo(RetryBackoff.MIN);
    assertThat(RetryBackoff.after("yesterday", T0)).isEqualTo(RetryBackoff.MIN);
    assertThat(RetryBackoff.after("2026-01-01T00:01:00Z", T0)).as("a clock behind the status").isEqualTo(RetryBackoff.MIN);
  }
}
