package dev.nixek.ci.report;

import dev.nixek.ci.common.config.ConfigException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.logs.LogStores;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report API's entry point (the sidecar container of the operator pod). Wiring by hand: configuration from the
 * environment, the Kubernetes client from the default fabric8 configuration (KUBECONFIG, ~/.kube/config or the
 * in-cluster ServiceAccount), one Vert.x instance whose worker pool makes the Kubernetes calls.
 *
 * <p>Prints {@code nixek-report-api listening on port N} on stdout once it listens; logs go to stderr.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** The stdout line launchers wait for; N is the bound port. */
  public static final String LISTENING = "nixek-report-api listening on port ";
  /** The stdout line, before {@link #LISTENING}, that tells the bound metrics port (none when metrics are off). */
  public static final String METRICS = "nixek-report-api metrics on port ";

  /** Client-side retries of a failed Kubernetes call (about 0.7 s in all) unless fabric8's own setting says. */
  static final int DEFAULT_RETRY_LIMIT = 3;

  private Main() {}

  /**
   * The default fabric8 configuration (KUBECONFIG, ~/.kube/config or in-cluster), with the field manager as User-Agent:
   * status writes carry no fieldManager parameter, so the API server names their manager after it.
   */
  static KubernetesClient kubernetesClient(ReportApiConfig config) {
    Config kube = Config.autoConfigure(null);
    kube.setUserAgent(config.fieldManager());
    if (System.getenv("KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT") == null
        && System.getProperty(Config.KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT_SYSTEM_PROPERTY) == null) {
      // fabric8 retries 10 times (about 20 s) by default; the agent retries on 503 anyway, and a report held that
      // long holds a worker thread and every later report of its job
      kube.setRequestRetryBackoffLimit(DEFAULT_RETRY_LIMIT);
    }
    return new KubernetesClientBuilder().withConfig(kube).build();
  }

  /** The log store step output goes to and is read from (docs/logs.md): the same options as the operator's. */
  static LogStore openLogStore(Map<String, String> env) {
    return LogStores.open(LogStoreOptions.fromEnv(env));
  }

  public static void main(String[] args) throws Exception {
    if (List.of(args).contains("--help")) {
      System.out.println("nixek-report-api: the nixek-ci report API. Configuration (environment):\n");
      System.out.print(ReportApiConfig.describe());
      return;
    }
    ReportApiConfig config;
    try {
      config = ReportApiConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("nixek-report-api: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    WebhookConfig webhooks;
    try {
      webhooks = WebhookConfig.fromEnv(System.getenv());
    } catch (ConfigException e) {
      System.err.println("nixek-report-api: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    LogStore logs;
    dev.nixek.ci.common.logs.ArtifactOptions artifactOptions;
    dev.nixek.ci.common.logs.ArtifactStore artifacts;
    try {
      logs = openLogStore(System.getenv());
      artifactOptions = dev.nixek.ci.common.logs.ArtifactOptions.fromEnv(System.getenv());
      // next to the logs, in the same store (docs/artifacts.md)
      artifacts = dev.nixek.ci.common.logs.ArtifactStores.open(LogStoreOptions.fromEnv(System.getenv()),
          artifactOptions);
    } catch (ConfigException e) {
      System.err.println("nixek-report-api: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    java.util.Optional<dev.nixek.ci.common.cache.CacheReadView> cacheView;
    try {
      cacheView = CacheViewConfig.fromEnv(System.getenv()).open();
    } catch (ConfigException e) {
      System.err.println("nixek-report-api: invalid configuration: " + e.getMessage());
      System.exit(2);
      return;
    } catch (RuntimeException e) {
      // the SDK found no region or credentials: the rest of the report API works without the caches
      LOG.warn("cannot open the binary caches' bucket; /v1/cache answers 404: {}", e.toString());
      cacheView = java.util.Optional.empty();
    }
    KubernetesClient client = kubernetesClient(config);
    Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(config.workerThreads()));
    ReportApi api = new ReportApi(vertx, client, config, logs, webhooks, null, artifacts, artifactOptions,
        cacheView);
    HttpServer server;
    try {
      server = api.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("cannot start the report API on {}:{}", config.bindHost(), config.port(), e);
      vertx.close();
      client.close();
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        // one after the other from this thread (chaining vertx.close() onto an event-loop future never completes)
        api.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("unclean shutdown: {}", e.toString());
      } finally {
        client.close();
        logs.close();
        artifacts.close();
      }
    }, "nixek-report-api-shutdown"));
    if (api.metricsPort() >= 0) {
      // before the listening line, which launchers wait for: they have read this one by then
      System.out.println(METRICS + api.metricsPort());
    }
    System.out.println(LISTENING + server.actualPort());
    System.out.flush();
  }
}
