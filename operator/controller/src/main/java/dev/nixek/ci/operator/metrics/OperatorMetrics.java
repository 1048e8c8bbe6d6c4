package dev.nixek.ci.operator.metrics;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetricsV2;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;

/**
 * The operator's metrics, one registry per started operator (tests start several in one JVM, each counting only its
 * own): JOSDK's reconciliation metrics, the JVM's, and nixek-ci's own ({@link JobMetrics}, {@link ImageMetrics},
 * {@link AwsCallMetrics}). Served as Prometheus text on the health port's {@code /metrics} (docs/operations.md).
 */
public final class OperatorMetrics implements AutoCloseable {
  /** JOSDK's meters come without a description: Prometheus's HELP lines (promtool wants one on every metric). */
  private static final Map<String, String> JOSDK_HELP = Map.of(
      "reconciliations.started.total", "Reconciliations started, by controller",
      "reconciliations.success.total", "Reconciliations that succeeded, by controller",
      "reconciliations.failure.total", "Reconciliations that failed (an exception), by controller",
      "reconciliations.retries.total", "Reconciliations retried after a failure, by controller",
      "reconciliations.active", "Reconciliations running now, by controller",
      "reconciliations.queue", "Resources waiting for a reconciliation, by controller",
      "reconciliations.execution.duration", "Time reconciliations took, by controller",
      "events.received", "Events the controllers received, by controller, event and action",
      "custom_resources", "Resources the controllers know, by controller");

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private JvmGcMetrics gc;
  private final JobMetrics jobs = new JobMetrics(registry);
  private final ImageMetrics images = new ImageMetrics(registry);
  private final AwsCallMetrics aws = new AwsCallMetrics(registry);
  // controller name as its only resource tag: never a job's name or namespace
  private final Metrics josdk;

  public OperatorMetrics() {
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null) {
          return id;
        }
        String help = JOSDK_HELP.getOrDefault(id.getName(), "java-operator-sdk's " + id.getName());
        return new Meter.Id(id.getName(), Tags.of(id.getTags()), id.getBaseUnit(), help, id.getType());
      }
    });
    josdk = MicrometerMetricsV2.newBuilder(registry).build();
  }

  /** Adds the JVM's memory, GC, thread and uptime metrics (once; the operator process does). */
  public synchronized OperatorMetrics withJvm() {
    if (gc != null) {
      return this;
    }
    gc = new JvmGcMetrics();
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    gc.bindTo(registry);
    return this;
  }

  public JobMetrics jobs() {
    return jobs;
  }

  public ImageMetrics images() {
    return images;
  }

  /** The interceptor every AWS client of the operator carries. */
  public AwsCallMetrics aws() {
    return aws;
  }

  /** What JOSDK reports its reconciliations to ({@code ConfigurationServiceOverrider#withMetrics}). */
  public Metrics josdk() {
    return josdk;
  }

  /** Everything, in the Prometheus text format (0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public synchronized void close() {
    if (gc != null) {
      gc.close();
    }
    registry.close();
  }
}
