package dev.nixek.ci.report;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Token buckets by key, the limiter under {@link AuthFailures} (per client address) and {@link JobRateLimit} (per
 * job): a key may take {@code capacity} at once and {@code perSecond} a second after that.
 *
 * <p>Memory is bounded: a bucket that has refilled is the same as no bucket, so such buckets are dropped whenever
 * {@link #SWEEP_EVERY} more keys are tracked than after the last sweep; past {@code maxKeys}, new keys share one
 * bucket (they are then limited together, which is what a flood of keys earns).
 */
final class TokenBuckets {
  static final int SWEEP_EVERY = 1024;
  private static final String OVERFLOW = "*";
  private static final double SECOND_NANOS = 1e9;

  private final double capacity;
  private final double perSecond;
  private final int maxKeys;
  private final LongSupplier nanoClock;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile int sweepAt = SWEEP_EVERY;

  /** What is left at {@code stamp} (nanos). */
  private static final class Bucket {
    double left;
    long stamp;

    Bucket(double left, long stamp) {
      this.left = left;
      this.stamp = stamp;
    }
  }

  TokenBuckets(double capacity, double perSecond, int maxKeys, LongSupplier nanoClock) {
    this.capacity = capacity;
    this.perSecond = perSecond;
    this.maxKeys = maxKeys;
    this.nanoClock = nanoClock;
  }

  /** Takes one from {@code key}'s bucket: 0 when there was one, else the seconds until there is (Retry-After). */
  long take(String key) {
    long now = nanoClock.getAsLong();
    Bucket b = bucket(key, now);
    synchronized (b) {
      refill(b, now);
      if (b.left >= 1) {
        b.left -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - b.left) / perSecond));
    }
  }

  /** How many keys are tracked (for tests: memory stays bounded). */
  int size() {
    return buckets.size();
  }

  private Bucket bucket(String key, long now) {
    Bucket b = buckets.get(key);
    if (b != null) {
      return b;
    }
    if (buckets.size() >= sweepAt || buckets.size() >= maxKeys) {
      buckets.entrySet().removeIf(e -> {
        synchronized (e.getValue()) {
          refill(e.getValue(), now);
          return e.getValue().left >= capacity;
        }
      });
      sweepAt = buckets.size() + SWEEP_EVERY;
    }
    String k = buckets.size() >= maxKeys ? OVERFLOW : key;
    return buckets.computeIfAbsent(k, x -> new Bucket(capacity, now));
  }

  private void refill(Bucket b, long now) {
    long elapsed = now - b.stamp;
    if (elapsed > 0) {
      b.left = Math.min(capacity, b.left + elapsed * perSecond / SECOND_NANOS);
      b.stamp = now;
    }
  }
}
