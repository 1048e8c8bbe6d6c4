package dev.nixek.ci.report;

import java.util.function.LongSupplier;

/**
 * Counts failed authentications per client address in a token bucket: {@code perMinute} failures may come at once,
 * and as many again each minute. A client whose bucket is empty gets 429 with Retry-After instead of 401/403.
 * Only failures count, so a good token is never slowed down — not even when an attacker shares its address (a NAT,
 * a proxy in front of the report API).
 *
 * <p>Memory is bounded ({@link TokenBuckets}): buckets that refilled are dropped, and past {@link #MAX_CLIENTS}
 * addresses new ones share one bucket (limited together, which is what a flood from many addresses earns).
 */
final class AuthFailures {
  static final int MAX_CLIENTS = 10_000;

  private final TokenBuckets buckets;

  AuthFailures(int perMinute, LongSupplier nanoClock) {
    this.buckets = new TokenBuckets(perMinute, perMinute / 60.0, MAX_CLIENTS, nanoClock);
  }

  /**
   * Records one failure of {@code client}; returns 0 when it is within the limit, else the seconds until the client
   * may fail again (its Retry-After).
   */
  long fail(String client) {
    return buckets.take(client);
  }
}
