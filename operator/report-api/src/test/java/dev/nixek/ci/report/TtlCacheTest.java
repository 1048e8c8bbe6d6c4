package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TtlCacheTest {
  private final AtomicLong now = new AtomicLong();
  private final TtlCache<String, Boolean> cache = new TtlCache<>(Duration.ofSeconds(10), 2, now::get);

  @Test
  void anAnswerIsReusedWithinItsTtlAndGoneAfter() {
    cache.put("a", false);
    now.addAndGet(Duration.ofSeconds(9).toNanos());
    assertThat(cache.get("a")).as("a denial too, briefly").hasValue(false);
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(cache.get("a")).isEmpty();
    assertThat(cache.size()).isZero();
  }

  @Test
  void theEldestEntryGoesPastTheBound() {
    cache.put("a", true);
    cache.put("b", true);
    cache.put("c", true);
    assertThat(cache.get("a")).isEmpty();
    assertThat(cache.get("b")).hasValue(true);
    assertThat(cache.get("c")).hasValue(true);
    assertThat(cache.size()).isEqualTo(2);
  }
}
