package dev.nixek.ci.agent;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with jitter. The jitter (each delay drawn from [c/2, c] for a ceiling c that doubles
 * per attempt) keeps many agents that lost the report API at the same moment from retrying in lockstep.
 */
final class Backoff {
  private final long initialNanos;
  private final long maxNanos;
  private long ceilingNanos;

  Backoff(Duration initial, Duration max) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max, got " + initial + ", " + max);
    }
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
    this.ceilingNanos = initialNanos;
  }

  /** The delay before the next attempt. */
  Duration next() {
    long ceiling = ceilingNanos;
    ceilingNanos = ceiling > maxNanos / 2 ? maxNanos : ceiling * 2;
    long half = ceiling / 2;
    return Duration.ofNanos(half + ThreadLocalRandom.current().nextLong(ceiling - half + 1));
  }

  /** Called after a success, so that the next failure starts small again. */
  void reset() {
    ceilingNanos = initialNanos;
  }
}
