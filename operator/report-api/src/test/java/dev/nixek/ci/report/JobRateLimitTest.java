package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JobRateLimitTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final JobRateLimit limit = new JobRateLimit(10, now::get);

  @Test
  void aJobMaySendTwiceItsRateAtOnceThenItsRateASecond() {
    for (int i = 0; i < 20; i++) {
      assertThat(limit.take("ci/a")).as("report %d of the burst", i).isZero();
    }
    assertThat(limit.take("ci/a")).as("the 21st at once: Retry-After").isEqualTo(1);

    now.addAndGet(500_000_000L); // half a second: five reports back
    for (int i = 0; i < 5; i++) {
      assertThat(limit.take("ci/a")).isZero();
    }
    assertThat(limit.take("ci/a")).isEqualTo(1);
  }

  @Test
  void oneJobOverItsLimitDoesNotSlowAnother() {
    for (int i = 0; i < 25; i++) {
      limit.take("ci/noisy");
    }
    assertThat(limit.take("ci/noisy")).isPositive();
    assertThat(limit.take("ci/quiet")).isZero();
  }

  @Test
  void aSlowRateGetsARetryAfterLongEnoughToRefill() {
    JobRateLimit slow = new JobRateLimit(1, now::get);
    assertThat(slow.take("ci/a")).isZero();
    assertThat(slow.take("ci/a")).isZero();
    // empty: one report comes back per second
    assertThat(slow.take("ci/a")).isEqualTo(1);
  }

  @Test
  void jobsThatWentQuietAreForgotten() {
    for (int i = 0; i < 1024; i++) {
      limit.take("ci/job-" + i);
    }
    assertThat(limit.jobs()).isEqualTo(1024);
    now.addAndGet(10_000_000_000L); // every bucket full again
    limit.take("ci/new");
    assertThat(limit.jobs()).isEqualTo(1);
  }
}
