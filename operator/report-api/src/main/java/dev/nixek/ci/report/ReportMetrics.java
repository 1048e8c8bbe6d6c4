package dev.nixek.ci.report;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.Set;

/**
 * The report API's metrics: every request counted by endpoint and status code, its body's bytes and the time until
 * its answer was sent (the agent's "ack"). A route handler at the top of the router ({@link #handle}) sees every
 * request, refused ones included. Labels are an endpoint from a fixed list and a status code: never a job.
 */
public final class ReportMetrics implements AutoCloseable {
  /** The endpoints requests are counted under; any other path counts as {@code other}. */
  static final Set<String> ENDPOINTS = Set.of("started", "output", "finished", "evaluation", "agent-ended", "healthz",
      "readyz");
  private static final Duration[] ACK_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
      Duration.ofSeconds(30)};
  private static final double[] BYTE_BUCKETS = {256, 1024, 4096, 16384, 65536, 262144, 1048576};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public ReportMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    gc.bindTo(registry);
  }

  /** Counts the request once its answer is sent (or its connection is gone), then passes it on. */
  public void handle(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(done -> record(endpoint(ctx.request().path()), ctx.response().getStatusCode(),
        ctx.request().bytesRead(), System.nanoTime() - start));
    ctx.next();
  }

  /** The endpoint of {@code path}: its last segment when that is one of {@link #ENDPOINTS}, else {@code other}. */
  static String endpoint(String path) {
    if (path == null) {
      return "other";
    }
    if (path.startsWith("/v1/logs/")) {
      return "logs";
    }
    if (path.startsWith(WebhookHandler.PREFIX)) {
      return "webhooks";
    }
    String last = path.substring(path.lastIndexOf('/') + 1);
    return ENDPOINTS.contains(last) ? last : "other";
  }

  void record(String endpoint, int status, long bytes, long nanos) {
    Counter.builder("nixek.report.requests").description("Requests to the report API by endpoint and status code")
        .tag("endpoint", endpoint).tag("code", Integer.toString(status)).register(registry).increment();
    DistributionSummary.builder("nixek.report.request.body").baseUnit("bytes")
        .description("Bytes of the requests' bodies, by endpoint").serviceLevelObjectives(BYTE_BUCKETS)
        .tag("endpoint", endpoint).register(registry).record(bytes);
    Timer.builder("nixek.report.ack.duration")
        .description("Time from a request's arrival to its answer's end, by endpoint")
        .serviceLevelObjectives(ACK_BUCKETS).tag("endpoint", endpoint).register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** Everything, in the Prometheus text format (0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
