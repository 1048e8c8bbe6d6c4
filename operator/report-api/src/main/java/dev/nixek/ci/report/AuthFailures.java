package dev.nixek.ci.report;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Counts failed authentications per client address in a token bucket: {@code perMinute} failures may come at once,
 * and as many again each minute. A client whose bucket is empty gets 429 with Retry-After instead of 401/403.
 * Only failures count, so a good token is never slowed down — not even when an attacker shares its address (a NAT,
 * a proxy in front of the report API).
 *
 * <p>Memory is bounded: at {@link #MAX_CLIENTS} addresses, buckets that refilled are dropped; if that frees nothing,
 * new addresses share one bucket (they are then limited together, which is what a flood from many addresses earns).
 */
final class AuthFailures {
  static final int MAX_CLIENTS = 10_000;
  private static final String OVERFLOW = "*";
  private static final long MINUTE_NANOS = 60_000_000_000L;

  private final int perMinute;
  private final LongSupplier nanoClock;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** Failures left at {@code stamp} (nanos), refilled at perMinute per minute up to perMinute. */
  private static final class Bucket {
    double left;
    long stamp;

    Bucket(double left, long stamp) {
      this.left = left;
      this.stamp = stamp;
    }
  }

  AuthFailures(int perMinute, LongSupplier nanoClock) {
    this.perMinute = perMinute;
    this.nanoClock = nanoClock;
  }

  /**
   * Records one failure of {@code client}; returns 0 when it is within the limit, else the seconds until the client
   * may fail again (its Retry-After).
   */
  long fail(String client) {
    long now = nanoClock.getAsLong();
    Bucket b = bucket(client, now);
    synchronized (b) {
      refill(b, now);
      if (b.left >= 1) {
        b.left -= 1;
        return 0;
      }
      double missing = 1 - b.left;
      return Math.max(1, (long) Math.ceil(missing * 60.0 / perMinute));
    }
  }

  /** How many clients are tracked (for tests: memory stays bounded). */
  int clients() {
    return buckets.size();
  }

  private Bucket bucket(String client, long now) {
    Bucket b = buckets.get(client);
    if (b != null) {
      return b;
    }
    if (buckets.size() >= MAX_CLIENTS) {
      buckets.entrySet().removeIf(e -> {
        synchronized (e.getValue()) {
          refill(e.getValue(), now);
          return e.getValue().left >= perMinute;
        }
      });
      if (buckets.size() >= MAX_CLIENTS) {
        return buckets.computeIfAbsent(OVERFLOW, k -> new Bucket(perMinute, now));
      }
    }
    return buckets.computeIfAbsent(client, k -> new Bucket(perMinute, now));
  }

  private void refill(Bucket b, long now) {
    long elapsed = now - b.stamp;
    if (elapsed > 0) {
      b.left = Math.min(perMinute, b.left + (double) elapsed * perMinute / MINUTE_NANOS);
      b.stamp = now;
    }
  }
}
