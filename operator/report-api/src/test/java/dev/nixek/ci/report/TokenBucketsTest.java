package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @Test
  void pastTheKeyCapNewKeysShareOneBucketUntilOldOnesRefill() {
    TokenBuckets buckets = new TokenBuckets(1, 1, 3, now::get);
    for (String k : new String[] {"a", "b", "c"}) {
      assertThat(buckets.take(k)).isZero();
    }
    assertThat(buckets.take("d")).as("the shared bucket's first").isZero();
    assertThat(buckets.take("e")).as("limited together with d").isEqualTo(1);
    assertThat(buckets.size()).isEqualTo(4);

    now.addAndGet(2_000_000_000L); // every bucket full again: dropped at the next new key
    assertThat(buckets.take("f")).isZero();
    assertThat(buckets.size()).isEqualTo(1);
  }

  @Test
  void aFractionalRateGivesTheSecondsUntilOneIsBack() {
    TokenBuckets perMinute = new TokenBuckets(30, 0.5, 10, now::get); // 30 a minute
    for (int i = 0; i < 30; i++) {
      assertThat(perMinute.take("client")).isZero();
    }
    assertThat(perMinute.take("client")).isEqualTo(2);
  }
}
