package dev.nixek.ci.report;

import io.vertx.ext.web.RoutingContext;
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
  private final int perSecond;
  private final TokenBuckets buckets;

  JobRateLimit(int perSecond, LongSupplier nanoClock) {
    this.perSecond = perSecond;
    // no cap on keys: only jobs with a live token record get here
    this.buckets = new TokenBuckets(2.0 * perSecond, perSecond, Integer.MAX_VALUE, nanoClock);
  }

  /** The route handler: the request's job (from its token record) takes one report from its bucket, or gets 429. */
  void check(RoutingContext ctx) {
    long retryAfter = take(TokenResolver.record(ctx).jobKey());
    if (retryAfter > 0) {
      ReportApi.fail(ctx, ApiError.tooMany("this job sends reports faster than " + perSecond
          + " a second; retry later", retryAfter));
      return;
    }
    ctx.next();
  }

  /** Takes one report of {@code job}: 0 when within the limit, else the seconds until it may send (Retry-After). */
  long take(String job) {
    return buckets.take(job);
  }

  /** How many jobs are tracked (for tests: idle jobs are forgotten). */
  int jobs() {
    return buckets.size();
  }
}
