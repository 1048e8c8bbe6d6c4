package dev.nixek.ci.report;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** When the Kubernetes API last answered a call successfully: what /readyz reports on. */
final class ApiHealth {
  private static final long NEVER = Long.MIN_VALUE;

  private final LongSupplier nanoClock;
  private final AtomicLong lastReachable = new AtomicLong(NEVER);

  ApiHealth(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  ApiHealth() {
    this(System::nanoTime);
  }

  /** A Kubernetes API call just succeeded. */
  void reachable() {
    lastReachable.set(nanoClock.getAsLong());
  }

  /** How long ago the API last answered; empty if it never did. */
  Optional<Duration> sinceReachable() {
    long last = lastReachable.get();
    return last == NEVER ? Optional.empty() : Optional.of(Duration.ofNanos(nanoClock.getAsLong() - last));
  }

  boolean isReady(Duration maxAge) {
    return sinceReachable().map(d -> d.compareTo(maxAge) <= 0).orElse(false);
  }
}
