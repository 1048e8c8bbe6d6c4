package dev.nixek.ci.report;

import io.vertx.ext.web.RoutingContext;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Reports per second per job, in a token bucket: a job may send {@code 2 × perSecond} reports at once and
 * {@code perSecond} a second after that; one more gets 429 with Retry-After, and the agent sends the same report
 * again once it has waited. One noisy step so cannot take the Kubernetes API's whole write budget from the other
 * jobs, whatever its network allows ({@link PerJobQueue}'s depth limit only bounds what waits, not how fast).
 *
 * <p>Runs after authentication, so a bucket exists only for a job with a live token record: memory grows with the
 * jobs that report, and a bucket that has refilled (its job went quiet) is dropped on the next sweep.
 */
final class JobRateLimit {
  private static final long SECOND_NANOS = 1_000_000_000L;
  /** Sweeps for full buckets when this many more jobs are tracked than after the last sweep. */
  private static final int SWEEP_EVERY = 1024;

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoClock;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile int sweepAt = SWEEP_EVERY;

  private static final class Bucket {
    double left;
    long stamp;

    Bucket(double left, long stamp) {
      this.left = left;
      this.stamp = stamp;
    }
  }

  JobRateLimit(int perSecond, LongSupplier nanoClock) {
    this.perSecond = perSecond;
    this.burst = 2.0 * perSecond;
    this.nanoClock = nanoClock;
  }

  /** The route handler: the request's job (from its token record) takes one report from its bucket, or gets 429. */
  void check(RoutingContext ctx) {
    long retryAfter = take(TokenResolver.record(ctx).jobKey());
    if (retryAfter > 0) {
      ReportApi.fail(ctx, ApiError.tooMany("this job sends reports faster than " + (int) perSecond
          + " a second; retry later", retryAfter));
      return;
    }
    ctx.next();
  }

  /** Takes one report of {@code job}: 0 when within the limit, else the seconds until it may send (Retry-After). */
  long take(String job) {
    long now = nanoClock.getAsLong();
    if (buckets.size() >= sweepAt) {
      sweep(now);
    }
    Bucket b = buckets.computeIfAbsent(job, k -> new Bucket(burst, now));
    synchronized (b) {
      refill(b, now);
      if (b.left >= 1) {
        b.left -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - b.left) / perSecond));
    }
  }

  /** How many jobs are tracked (for tests: idle jobs are forgotten). */
  int jobs() {
    return buckets.size();
  }

  private void sweep(long now) {
    buckets.entrySet().removeIf(e -> {
      synchronized (e.getValue()) {
        refill(e.getValue(), now);
        return e.getValue().left >= burst;
      }
    });
    sweepAt = buckets.size() + SWEEP_EVERY;
  }

  private void refill(Bucket b, long now) {
    long elapsed = now - b.stamp;
    if (elapsed > 0) {
      b.left = Math.min(burst, b.left + (double) elapsed * perSecond / SECOND_NANOS);
      b.stamp = now;
    }
  }
}
