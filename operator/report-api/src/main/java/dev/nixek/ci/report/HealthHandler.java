package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.protocol.ReportError;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /healthz} (liveness: the event loop answers) and {@code /readyz} (readiness: a Kubernetes API call succeeded
 * within the configured age). A periodic probe lists one NixekJob, so readiness also covers a missing CRD or RBAC;
 * every successful report refreshes it too.
 */
final class HealthHandler {
  private static final Logger LOG = LoggerFactory.getLogger(HealthHandler.class);

  private final Vertx vertx;
  private final KubernetesClient client;
  private final List<String> namespaces;
  private final ApiHealth health;
  private final Duration maxAge;
  private final AtomicBoolean probing = new AtomicBoolean();
  /** Whether the last probe failed: log the change, not every failed probe. */
  private final AtomicBoolean failing = new AtomicBoolean();
  private long timerId = -1;

  HealthHandler(Vertx vertx, KubernetesClient client, List<String> namespaces, ApiHealth health, Duration maxAge) {
    this.vertx = vertx;
    this.client = client;
    this.namespaces = namespaces;
    this.health = health;
    this.maxAge = maxAge;
  }

  void healthz(RoutingContext ctx) {
    ReportApi.sendJson(ctx, 200, Map.of("status", "ok"));
  }

  void readyz(RoutingContext ctx) {
    if (health.isReady(maxAge)) {
      ReportApi.sendJson(ctx, 200, Map.of("status", "ready"));
    } else {
      String when = health.sinceReachable().map(d -> "last reachable " + d.toSeconds() + "s ago").orElse("never reached");
      ReportApi.sendJson(ctx, 503, new ReportError("not_ready", "Kubernetes API " + when));
    }
  }

  /** Probes now and then every third of the readiness age. */
  void startProbing() {
    long every = Math.max(1000, maxAge.toMillis() / 3);
    probe();
    timerId = vertx.setPeriodic(every, every, id -> probe());
  }

  void stopProbing() {
    if (timerId != -1) {
      vertx.cancelTimer(timerId);
    }
  }

  private void probe() {
    if (!probing.compareAndSet(false, true)) {
      return;
    }
    vertx.executeBlocking(() -> {
      var jobs = client.resources(NixekJob.class);
      var options = new ListOptionsBuilder().withLimit(1L).build();
      if (namespaces.isEmpty()) {
        jobs.inAnyNamespace().list(options);
      } else {
        jobs.inNamespace(namespaces.get(0)).list(options);
      }
      return null;
    }, false).onComplete(ar -> {
      probing.set(false);
      if (ar.succeeded()) {
        health.reachable();
        if (failing.compareAndSet(true, false)) {
          LOG.info("Kubernetes API reachable again");
        }
      } else if (failing.compareAndSet(false, true)) {
        LOG.warn("Kubernetes API probe failed (logged once until it recovers): {}", ar.cause().toString());
      }
    });
  }
}
