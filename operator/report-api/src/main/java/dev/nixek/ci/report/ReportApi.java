package dev.nixek.ci.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.protocol.ReportPaths;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.handler.TimeoutHandler;
import dev.nixek.ci.common.cache.CacheReadView;
import java.io.IOException;
import java.util.Optional;
import java.time.Clock;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report API: one {@link Router} and its HTTP server (docs/architecture.md#report-protocol).
 *
 * <pre>
 * POST /v1/jobs/:namespace/:name/steps/:index/started    StepStarted   application/json
 * POST /v1/jobs/:namespace/:name/steps/:index/output     OutputChunk   application/json
 * POST /v1/jobs/:namespace/:name/steps/:index/finished   StepFinished  application/json
 * POST /v1/jobs/:namespace/:name/evaluation              EvaluationResult  application/json (evaluation token)
 * POST /v1/jobs/:namespace/:name/agent-ended             AgentEnded    application/json
 * GET  /v1/logs/:namespace/:name/steps/:index             a step's log (Kubernetes user token; {@link LogsHandler})
 * POST /v1/webhooks/:namespace/:repository               a forge's delivery (its HMAC signature; {@link WebhookHandler})
 * ...  artifacts: uploads (job token), downloads (Kubernetes user token); {@link ArtifactsHandler}
 * GET  /v1/cache/:segment/...                            a trust domain's binary cache (read token; {@link CacheHandler})
 * GET  /healthz   liveness
 * GET  /readyz    readiness (token records loaded and watched, the Kubernetes API answered recently)
 * </pre>
 *
 * <p>Per request, in this order: a timeout ({@code NIXEK_REPORT_REQUEST_TIMEOUT_SECONDS}, 408 for a body sent too
 * slowly); authentication from the Authorization header and the path ({@link TokenResolver}: 401/403/429, answered
 * with the connection closed and the body unread); then the body handler with an explicit limit: a Content-Length
 * over it is refused with 413 before any byte is read, a chunked body as soon as it passes the limit. The evaluation
 * endpoint has its own, larger limit (an evaluation carries every step's definition). Every refusal carries a
 * {@link ReportError} body. Kubernetes API calls run on worker threads, never on the event loop.
 *
 * <p>The server itself caps what one client can hold: connections ({@code NIXEK_REPORT_MAX_CONNECTIONS}, counted
 * here), header and request-line sizes, a read-idle timeout, and no h2c (agents speak HTTP/1.1).
 */
public final class ReportApi {
  private static final Logger LOG = LoggerFactory.getLogger(ReportApi.class);
  private static final String JSON = "application/json";
  /** A report's request line is its path: namespace and name are DNS names, so 4 KiB is far more than enough. */
  static final int MAX_INITIAL_LINE = 4096;
  /** An agent sends a handful of short headers; 8 KiB is Netty's and most proxies' default. */
  static final int MAX_HEADER_BYTES = 8192;

  private final Vertx vertx;
  private final ReportApiConfig config;
  private final ReportHandler reports;
  private final EvaluationHandler evaluations;
  private final AgentEndedHandler agentEnded;
  private final SecretsHandler secrets;
  private final HealthHandler health;
  private final TokenRecords records;
  private final TokenResolver tokens;
  private final JobRateLimit rate;
  private final LogWakeups logWakeups = new LogWakeups();
  private final LogsHandler logs;
  private final ArtifactsHandler artifacts;
  private final AtomicInteger connections = new AtomicInteger();
  private final int webhookLimitBytes;
  private final StatusFlusher flusher;
  private final AtomicBoolean flushing = new AtomicBoolean();
  private long flushTimer = -1;
  private WorkerExecutor flushPool;
  /** Threads that seal (compact) ended steps' logs; more seals wait their turn, reports never wait for one. */
  static final int SEAL_THREADS = 2;
  private final WorkerExecutor sealPool;
  private final ReportMetrics metrics = new ReportMetrics();
  private final WebhookRepositories repositories;
  private final WebhookNudges nudges;
  private final WebhookHandler webhooks;
  private final SealKeys sealKeys;
  private final CacheHandler cache;
  private HttpServer server;
  private HttpServer metricsServer;

  /**
   * A report API storing step output in {@code logStore} and serving it from there (docs/logs.md): the caller owns
   * the store and closes it after {@link #stop}.
   */
  public ReportApi(Vertx vertx, KubernetesClient client, ReportApiConfig config, LogStore logStore) {
    this(vertx, client, config, logStore, WebhookConfig.defaults(), null, null, null);
  }

  /**
   * As {@link #ReportApi(Vertx, KubernetesClient, ReportApiConfig, LogStore)}, with the webhook endpoint's options
   * and the sealer it opens webhook secrets and jobs' secrets with ({@code null}: read the seal key Secret
   * {@link ReportApiConfig#seal()} names).
   */
  public ReportApi(Vertx vertx, KubernetesClient client, ReportApiConfig config, LogStore logStore,
      WebhookConfig webhookConfig, Supplier<Sealer> sealer) {
    this(vertx, client, config, logStore, webhookConfig, sealer, null, null);
  }

  /** As above, with step artifacts in {@code artifactStore} (docs/artifacts.md; null: none, routes answer 503). */
  public ReportApi(Vertx vertx, KubernetesClient client, ReportApiConfig config, LogStore logStore,
      dev.nixek.ci.common.logs.ArtifactStore artifactStore, dev.nixek.ci.common.logs.ArtifactOptions artifactOptions) {
    this(vertx, client, config, logStore, WebhookConfig.defaults(), null, artifactStore, artifactOptions);
  }

  /** Webhooks (options, sealer) and artifacts (store, options); no binary cache. */
  public ReportApi(Vertx vertx, KubernetesClient client, ReportApiConfig config, LogStore logStore,
      WebhookConfig webhookConfig, Supplier<Sealer> sealer, dev.nixek.ci.common.logs.ArtifactStore artifactStore,
      dev.nixek.ci.common.logs.ArtifactOptions artifactOptions) {
    this(vertx, client, config, logStore, webhookConfig, sealer, artifactStore, artifactOptions, Optional.empty());
  }

  /** Every part, with the trust domains' binary caches served read-only at {@code /v1/cache} ({@link CacheHandler}). */
  public ReportApi(Vertx vertx, KubernetesClient client, ReportApiConfig config, LogStore logStore,
      WebhookConfig webhookConfig, Supplier<Sealer> sealer, dev.nixek.ci.common.logs.ArtifactStore artifactStore,
      dev.nixek.ci.common.logs.ArtifactOptions artifactOptions, Optional<CacheReadView> cacheView) {
    this.vertx = vertx;
    this.logs = new LogsHandler(client, logStore, logWakeups, config.authFailuresPerMinute());
    this.config = config;
    ApiHealth apiHealth = new ApiHealth();
    this.records = new TokenRecords(client, config.watchNamespaces());
    // one budget: a client guessing webhook signatures and one guessing tokens are limited together
    AuthFailures authFailures = new AuthFailures(config.authFailuresPerMinute(), System::nanoTime);
    this.tokens = new TokenResolver(records, authFailures);
    this.webhookLimitBytes = webhookConfig.bodyLimitBytes();
    this.repositories = new WebhookRepositories(client, config.watchNamespaces());
    this.nudges = new WebhookNudges(new WebhookStatusWriter(client));
    // one seal key holder for all the report API opens: webhook secrets and jobs' secrets
    this.sealKeys = sealer == null ? new SealKeys(client, config.seal())
        : sealer instanceof SealKeys given ? given : SealKeys.of(sealer);
    this.webhooks = new WebhookHandler(repositories, new WebhookSecrets(sealKeys), nudges,
        authFailures, webhookConfig, Clock.systemUTC());
    // the same failure budget: a client guessing cache tokens is limited with one guessing job tokens
    this.cache = new CacheHandler(cacheView, sealer == null ? sealKeys : sealer, authFailures, Clock.systemUTC());
    this.rate = new JobRateLimit(config.jobReportsPerSecond(), System::nanoTime);
    StepsWriter steps = new StepsWriter(client);
    StepCursors cursors = new StepCursors(System::currentTimeMillis);
    this.flusher = new StatusFlusher(cursors, steps::update, logStore, config.statusIntervalMillis(),
        System::currentTimeMillis);
    // what ingest stores or seals wakes this replica's followers of the step at once
    LogStore waking = logWakeups.waking(logStore);
    ReportWriter writer = new ReportWriter(steps, config.outputTailBytes(), config.outputTailBudgetBytes(), apiHealth,
        waking, cursors, config.logLimits(), flusher);
    OutputIngest ingest = new OutputIngest(waking, cursors, config.logLimits(), record -> {
      NixekJob job = client.resources(NixekJob.class).inNamespace(record.namespace()).withName(record.jobName()).get();
      apiHealth.reachable();
      return job;
    }, records::ended, config.outputTailBytes(), config.outputTailBudgetBytes());
    PerJobQueue queue = new PerJobQueue(config.jobQueueLimit());
    // seals on threads of their own: 20 steps ending at once held every shared worker for seconds (bench/report-load)
    this.sealPool = vertx.createSharedWorkerExecutor("nixek-log-seal", SEAL_THREADS);
    this.reports = new ReportHandler(writer, ingest, queue, sealPool);
    this.evaluations = new EvaluationHandler(new EvaluationWriter(new StepsWriter(client), apiHealth), queue);
    this.agentEnded = new AgentEndedHandler(new AgentEndedWriter(new StepsWriter(client), apiHealth), queue);
    this.secrets = new SecretsHandler(client, sealKeys);
    this.health = new HealthHandler(vertx, client, config.watchNamespaces(), apiHealth, records,
        config.readyMaxAge());
    this.artifacts = new ArtifactsHandler(client, artifactStore, artifactOptions == null
        ? dev.nixek.ci.common.logs.ArtifactOptions.defaults() : artifactOptions, tokens);
  }

  /** The router with every route, body limit and error mapping. */
  public Router router() {
    Router router = Router.router(vertx);
    router.route().handler(metrics::handle);
    // before the request timeout: a follower's answer lasts as long as its step
    logs.routes(router);
    // before the request timeout too: uploads, downloads and the check of a large file take longer
    artifacts.routes(router);
    // and the binary caches: a NAR can be large
    cache.routes(router);
    router.route().handler(TimeoutHandler.create(config.requestTimeout().toMillis(), 408));
    // before the shared body handler: webhooks have their own limit and check headers before reading a byte
    webhooks.routes(router);
    String evaluation = "/v1/jobs/:namespace/:name/" + ReportPaths.EVALUATION;
    String step = "/v1/jobs/:namespace/:name/steps/:index/";
    // authentication on routes of its own: Vert.x refuses a body handler after a user handler on one route
    router.post(evaluation).handler(tokens.handler(JobTokens.Purpose.EVALUATION));
    String agentEndedPath = "/v1/jobs/:namespace/:name/" + ReportPaths.AGENT_ENDED;
    router.post(agentEndedPath).handler(tokens.handler(JobTokens.Purpose.STEPS));
    String secretsPath = "/v1/jobs/:namespace/:name/" + ReportPaths.SECRETS;
    router.get(secretsPath).handler(tokens.handler(JobTokens.Purpose.STEPS));
    for (String kind : new String[] {ReportPaths.STARTED, ReportPaths.OUTPUT, ReportPaths.FINISHED}) {
      router.post(step + kind).handler(tokens.handler(JobTokens.Purpose.STEPS));
    }
    router.post(evaluation).handler(BodyHandler.create(false).setBodyLimit(config.evaluationLimitBytes()));
    router.route().handler(BodyHandler.create(false).setBodyLimit(config.bodyLimitBytes()));
    for (String kind : new String[] {ReportPaths.STARTED, ReportPaths.OUTPUT, ReportPaths.FINISHED}) {
      // after the body: a 429 keeps the connection, and the agent's replay comes on it
      router.post(step + kind).handler(rate::check);
    }
    router.post(evaluation).consumes(JSON).handler(evaluations::evaluation);
    router.post(agentEndedPath).consumes(JSON).handler(agentEnded::agentEnded);
    router.get(secretsPath).handler(secrets::secrets);
    router.post(step + ReportPaths.STARTED).consumes(JSON).handler(reports::started);
    router.post(step + ReportPaths.OUTPUT).consumes(JSON).handler(reports::output);
    router.post(step + ReportPaths.FINISHED).consumes(JSON).handler(reports::finished);
    router.get("/healthz").handler(health::healthz);
    router.get("/readyz").handler(health::readyz);
    router.route().failureHandler(this::onFailure);
    for (int status : new int[] {400, 404, 405, 408, 413, 415, 500}) {
      router.errorHandler(status, this::onFailure);
    }
    return router;
  }

  /** Starts listening (and probing the Kubernetes API); the server tells the bound port. */
  public Future<HttpServer> start() {
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.bindHost())
        .setPort(config.port())
        // an agent that vanished must not hold a connection forever
        .setIdleTimeout(120)
        .setIdleTimeoutUnit(TimeUnit.SECONDS)
        // a connection that sends nothing (not even the rest of its headers) for this long is closed
        .setReadIdleTimeout((int) config.requestTimeout().toSeconds())
        .setMaxInitialLineLength(MAX_INITIAL_LINE)
        .setMaxHeaderSize(MAX_HEADER_BYTES)
        .setHttp2ClearTextEnabled(false);
    records.start().whenComplete((v, t) -> {
      if (t != null) {
        LOG.error("cannot watch NixekJobs for token records; every report gets 503 until it can: {}", t.toString());
      }
    });
    repositories.start().whenComplete((v, t) -> {
      if (t != null) {
        LOG.error("cannot watch NixekRepositories; every webhook gets 503 until it can: {}", t.toString());
      }
    });
    sealKeys.start(vertx);
    return startMetrics().compose(m -> vertx.createHttpServer(options)
        .connectionHandler(this::countConnection)
        .requestHandler(router())
        .listen())
        .onSuccess(s -> {
          server = s;
          health.startProbing();
          startFlushing();
          LOG.info("report API listening on {}:{} (body limit {} bytes, namespaces {})", config.bindHost(),
              s.actualPort(), config.bodyLimitBytes(),
              config.watchNamespaces().isEmpty() ? "all" : config.watchNamespaces());
        });
  }

  /**
   * Looks for jobs whose status is due ten times per interval, so a job is written within a tenth of an interval of
   * being due; the writes run on workers, never on the event loop.
   */
  private void startFlushing() {
    // status writes on threads of their own: a slow API server must not hold the workers that acknowledge chunks
    flushPool = vertx.createSharedWorkerExecutor("nixek-status-flush", Math.max(2, config.workerThreads() / 4));
    long period = Math.max(10, config.statusIntervalMillis() / 10);
    flushTimer = vertx.setPeriodic(period, id -> {
      if (!flushing.compareAndSet(false, true)) {
        return;
      }
      flushPool.executeBlocking(() -> flusher.tick(task -> flushPool.executeBlocking(() -> {
        task.run();
        return null;
      }, false)), false).onComplete(ar -> flushing.set(false));
    });
  }

  /**
   * The metrics server, on a port of its own ({@code NIXEK_REPORT_METRICS_PORT}): the agents' port may face the
   * internet, and job counts and error rates are nobody's business there (docs/operations.md#metrics).
   */
  private Future<Void> startMetrics() {
    if (config.metricsPort() < 0) {
      return Future.succeededFuture();
    }
    Router router = Router.router(vertx);
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .end(metrics.scrape()));
    return vertx.createHttpServer(new HttpServerOptions().setHost(config.bindHost()).setPort(config.metricsPort())
            .setIdleTimeout(120).setIdleTimeoutUnit(TimeUnit.SECONDS))
        .requestHandler(router)
        .listen()
        .onSuccess(s -> {
          metricsServer = s;
          LOG.info("report API metrics on {}:{}", config.bindHost(), s.actualPort());
        })
        .mapEmpty();
  }

  /** The bound port of {@code /metrics}; -1 when it serves none (or is not started). */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.actualPort();
  }

  /** The metrics (for tests and the metrics server). */
  ReportMetrics metrics() {
    return metrics;
  }

  /** Closes a connection over {@code NIXEK_REPORT_MAX_CONNECTIONS} before it can send anything. */
  private void countConnection(HttpConnection connection) {
    int open = connections.incrementAndGet();
    connection.closeHandler(v -> connections.decrementAndGet());
    if (open > config.maxConnections()) {
      LOG.debug("closing a connection: {} open, at most {}", open, config.maxConnections());
      connection.close();
    }
  }

  /** The watched token records (for tests: a record is usable once it is here). */
  TokenRecords tokenRecords() {
    return records;
  }

  /** The watched repositories (for tests: a repository takes webhooks once it is here). */
  WebhookRepositories webhookRepositories() {
    return repositories;
  }

  /** The webhook nudges (for tests). */
  WebhookNudges webhookNudges() {
    return nudges;
  }

  /** The port the server listens on (for tests). */
  int boundPort() {
    return server.actualPort();
  }

  /** Open connections (for tests). */
  int openConnections() {
    return connections.get();
  }

  /** Wakes the log followers of a step: call after storing a chunk of it. */
  public LogWakeups logWakeups() {
    return logWakeups;
  }

  public Future<Void> stop() {
    if (flushTimer >= 0) {
      vertx.cancelTimer(flushTimer);
      flushPool.close();
    }
    sealPool.close();
    logs.close();
    artifacts.close();
    cache.close();
    records.close();
    repositories.close();
    nudges.close();
    sealKeys.stop();
    health.stopProbing();
    Future<Void> m = metricsServer == null ? Future.succeededFuture() : metricsServer.close();
    Future<Void> closed = server == null ? m : Future.all(m, server.close()).mapEmpty();
    return closed.onComplete(v -> metrics.close());
  }

  /** The one failure handler: maps what went wrong to a status code and a {@link ReportError} body. */
  private void onFailure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    int status;
    String error;
    String message;
    if (failure instanceof ApiError e) {
      status = e.status();
      error = e.error();
      message = e.getMessage();
    } else if (failure instanceof IOException e) {
      // the log store (a disk, S3): the agent retries a 503 with the same bytes
      LOG.warn("log store error handling {} {}: {}", ctx.request().method(), ctx.normalizedPath(), e.toString());
      status = 503;
      error = "log_store_unavailable";
      message = "the log store failed; retry later";
    } else if (failure instanceof KubernetesClientException e) {
      // the agent retries: a 503 makes it back off and send the same report again
      LOG.warn("Kubernetes API error ({}) handling {} {}: {}", e.getCode(), ctx.request().method(), ctx.normalizedPath(),
          e.getMessage());
      status = 503;
      error = "kubernetes_unavailable";
      message = "the Kubernetes API failed (" + (e.getCode() > 0 ? "HTTP " + e.getCode() : "unreachable")
          + "); retry later";
    } else {
      status = failure instanceof HttpException h ? h.getStatusCode() : ctx.statusCode();
      if (failure != null && !(failure instanceof HttpException)) {
        LOG.error("unexpected failure handling {} {}", ctx.request().method(), ctx.normalizedPath(), failure);
        status = 500;
      }
      switch (status) {
        case 400 -> {
          error = "bad_request";
          message = "malformed request";
        }
        case 404 -> {
          error = "not_found";
          message = "no such endpoint";
        }
        case 405 -> {
          error = "method_not_allowed";
          message = "method not allowed on this endpoint";
        }
        case 408 -> {
          error = "request_timeout";
          message = "the request took longer than " + config.requestTimeout().toSeconds() + " s";
        }
        case 413 -> {
          error = "body_too_large";
          message = "the body exceeds " + (ctx.normalizedPath().endsWith("/" + ReportPaths.EVALUATION)
              ? config.evaluationLimitBytes() : ctx.normalizedPath().startsWith(WebhookHandler.PREFIX)
              ? webhookLimitBytes : config.bodyLimitBytes()) + " bytes";
        }
        case 415 -> {
          error = "unsupported_media_type";
          message = "reports must be sent as " + JSON;
        }
        default -> {
          status = status >= 400 && status < 600 ? status : 500;
          error = "internal_error";
          message = "internal error";
        }
      }
    }
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    if (ctx.response().headWritten()) {
      ctx.request().connection().close();
      return;
    }
    if (status == 401) {
      challenge(ctx);
    }
    if (failure instanceof ApiError e && e.retryAfterSeconds() > 0) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
    }
    if (status == 408) {
      // the rest of a slow body is not waited for
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    sendJson(ctx, status, new ReportError(error, message));
  }

  /** Hands a failure to the failure handler with the status it will answer with. */
  static void fail(RoutingContext ctx, Throwable t) {
    int status = t instanceof ApiError e ? e.status()
        : t instanceof KubernetesClientException || t instanceof IOException ? 503 : 500;
    ctx.fail(status, t);
  }

  static void challenge(RoutingContext ctx) {
    if (ctx.response().headers().contains("WWW-Authenticate")) {
      return; // a route's own scheme (the cache's Basic)
    }
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"nixek-ci\"");
  }

  static void sendJson(RoutingContext ctx, int status, Object body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      // answered already (408: the write outlived the request timeout; the agent's replay will be a duplicate)
      return;
    }
    String json;
    try {
      json = Json.mapper().writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a response", e);
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(json);
  }
}
