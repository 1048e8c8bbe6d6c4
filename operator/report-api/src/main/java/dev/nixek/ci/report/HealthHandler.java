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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /healthz} (liveness: the event loop answers) and {@code /readyz} (readiness: the token records are loaded and
 * their watch is connected, and a Kubernetes API call succeeded within the configured age). Without its watch the
 * report API answers every unknown token 503, so it is not ready: a Service sends agents to a replica that can
 * authenticate them. A periodic probe lists one NixekJob, so readiness also covers a missing CRD or RBAC; every
 * successful report refreshes it too.
 */
final class HealthHandler {
  private static final Logger LOG = LoggerFactory.getLogger(HealthHandler.class);

  private final Vertx vertx;
  private final KubernetesClient client;
  private final List<String> namespaces;
  private final ApiHealth health;
  private final TokenWatch watch;
  private final Duration maxAge;
  private final AtomicBoolean probing = new AtomicBoolean();
  /** Whether the last probe failed: log the change, not every failed probe. */
  private final AtomicBoolean failing = new AtomicBoolean();
  private long timerId = -1;

  /** What readiness needs to know of the token records' watch ({@link TokenRecords}). */
  interface TokenWatch {
    /** Every watch has listed its jobs once. */
    boolean synced();

    /** Every watch is connected now. */
    boolean watching();
  }

  HealthHandler(Vertx vertx, KubernetesClient client, List<String> namespaces, ApiHealth health, TokenWatch watch,
      Duration maxAge) {
    this.vertx = vertx;
    this.client = client;
    this.namespaces = namespaces;
    this.health = health;
    this.watch = watch;
    this.maxAge = maxAge;
  }

  void healthz(RoutingContext ctx) {
    ReportApi.sendJson(ctx, 200, Map.of("status", "ok"));
  }

  void readyz(RoutingContext ctx) {
    Optional<String> why = notReady();
    if (why.isEmpty()) {
      ReportApi.sendJson(ctx, 200, Map.of("status", "ready"));
    } else {
      ReportApi.sendJson(ctx, 503, new ReportError("not_ready", why.get()));
    }
  }

  /** Why the report API cannot serve reports now; empty when it can. */
  Optional<String> notReady() {
    if (!watch.synced()) {
      return Optional.of("token records not loaded yet (the first list of NixekJobs has not completed)");
    }
    if (!watch.watching()) {
      return Optional.of("the watch of token records is reconnecting; unknown tokens get 503 until it is back");
    }
    if (!health.isReady(maxAge)) {
      return Optional.of("Kubernetes API " + health.sinceReachable()
          .map(d -> "last reachable " + d.toSeconds() + "s ago").orElse("never reached"));
    }
    return Optional.empty();
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
