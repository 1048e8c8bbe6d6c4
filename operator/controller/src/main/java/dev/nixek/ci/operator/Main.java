package dev.nixek.ci.operator;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.collect.CollectorLoop;
import dev.nixek.ci.operator.forge.ForgeStatusController;
import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.operator.cache.BinaryCache;
import dev.nixek.ci.operator.cache.CacheKeyStore;
import dev.nixek.ci.operator.config.CacheOptions;
import dev.nixek.ci.operator.image.ImageModule;
import dev.nixek.ci.operator.job.NixekJobReconciler;
import dev.nixek.ci.operator.repository.ForgeClient;
import dev.nixek.ci.operator.repository.NixekRepositoryReconciler;
import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.operator.logs.JobLogCleanup;
import dev.nixek.ci.operator.logs.LogCollector;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStores;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.aws.Ec2MachineProvider;
import dev.nixek.ci.operator.job.CrashPoints;
import dev.nixek.ci.operator.machine.MachineCollector;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.metrics.OperatorMetrics;
import dev.nixek.ci.operator.machine.local.LocalMachineProvider;
import dev.nixek.ci.operator.token.TokenKeyStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/** The operator's entry point: builds the whole graph by hand (no DI container) and starts it. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && ("--help".equals(args[0]) || "options".equals(args[0]))) {
      for (ConfigOption<?> o : OperatorConfig.OPTIONS) {
        System.out.printf("%-34s default '%s'%n    %s%n", o.key(), o.defaultValue(), o.description());
      }
      return;
    }
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnv(System.getenv());
      // the store is opened in start(); an incomplete one is a configuration error, said as one
      config.logs().store().requireComplete();
    } catch (ConfigException e) {
      System.err.println("nixek-operator: invalid configuration: " + e.getMessage());
      System.exit(64);
      return;
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    Running running;
    try {
      running = start(config, client, Seams.production());
    } catch (Exception e) {
      LOG.error("nixek-operator cannot start", e);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, "nixek-operator-shutdown"));
    LOG.info("nixek-operator started: provider={}, health port {}, leader election {}", config.provider(),
        running.healthPort(), config.leaderElection().enabled() ? "on" : "off");
  }

  /** A started operator; closing it stops it (the machines it launched keep running). */
  public record Running(Operator operator, HealthServer health, CollectorLoop collector, MachineProvider provider,
      ImageModule images, LeaderElection election, CollectorLoop logCollector, AutoCloseable ownedLogStore,
      OperatorMetrics metrics, ForgeStatusController forgeStatuses) implements AutoCloseable {
    public int healthPort() {
      return health.port();
    }

    /** Whether this operator processes events: it holds the Lease, or leader election is off. */
    public boolean isLeader() {
      return election == null || election.isLeading();
    }

    @Override
    public void close() {
      if (election != null) {
        election.stopping();
      }
      collector.close();
      logCollector.close();
      forgeStatuses.close();
      health.close();
      operator.stop();
      images.close();
      if (ownedLogStore != null) {
        try {
          ownedLogStore.close();
        } catch (Exception e) {
          LOG.warn("closing the log store: {}", e.toString());
        }
      }
      metrics.close();
      if (provider instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.warn("closing the {} provider: {}", provider.name(), e.toString());
        }
      }
    }
  }

  /**
   * Builds and starts the operator: production with {@link Seams#production()}, tests with their own client and
   * seams. {@code seams.onFatal()} runs when the running operator can no longer do its work: it lost its Lease, or an
   * informer stopped for good (e.g. its watch was forbidden).
   */
  public static Running start(OperatorConfig config, KubernetesClient client, Seams seams) throws Exception {
    Clock clock = seams.clock();
    Runnable onFatal = seams.onFatal();
    CrashPoints crashPoints = seams.crashPoints();
    OperatorMetrics metrics = new OperatorMetrics().withJvm();
    MachineProvider provider = seams.provider() != null ? seams.provider()
        : provider(config, clock, seams.awsCredentials(), metrics);
    JobTokens tokens = TokenKeyStore.load(client, config.operatorNamespace(), config.tokenKeySecret());
    // one collector per cluster: with leader election only the leader runs it (and it is safe to run twice anyway)
    MachineCollector machines = new MachineCollector(client, provider, config.watchNamespaces(),
        config.lifecycle().collectorGrace(), config.lifecycle().maxLifetimeSlack(), config.defaultJobTimeout(), clock);
    // the first run at once: machines of jobs deleted while no operator ran are found at start-up
    CollectorLoop collector = new CollectorLoop("machine collector", machines::collect, Duration.ZERO,
        config.lifecycle().collectorInterval());
    LogStore logStore = seams.logStore() != null ? seams.logStore()
        : logStore(config, seams.awsCredentials());
    CollectorLoop logCollector = logCollector(config, client, logStore, clock);
    EventRecorder events = new EventRecorder(client, clock);
    ImageModule images = ImageModule.create(config, client, clock, events, seams.awsCredentials(),
        seams.imageCrashPoints(), metrics);
    LeaderElection election = new LeaderElection();
    // commit statuses of repositories' jobs: one poster per cluster, like the collectors (docs/repositories.md)
    ForgeStatusController forgeStatuses = ForgeStatusController.of(client, config.watchNamespaces());
    Operator operator = new Operator(o -> {
      o.withKubernetesClient(client)
          .withMetrics(metrics.josdk())
          .withCloseClientOnStop(false)
          .withConcurrentReconciliationThreads(config.reconcileThreads())
          .withUseSSAToPatchPrimaryResource(config.useSsa())
          .withSSABasedCreateUpdateMatchForDependentResources(config.useSsa())
          .withInformerStoppedHandler((informer, error) -> {
            // an informer that synced and then stopped with an error will not recover (JOSDK's default exits)
            if (error != null && informer.hasSynced()) {
              LOG.error("an informer stopped: {}", error.toString());
              onFatal.run();
            }
          });
      // the collectors: one per cluster; with leader election only the leader runs them (running two is safe)
      election.configuration(config.leaderElection(), config.operatorNamespace(), onFatal,
              new LeaderElection.LeaderWork() {
                @Override
                public void start() {
                  collector.start();
                  logCollector.start();
                  images.startCollector();
                  forgeStatuses.start();
                }

                @Override
                public void stop() {
                  collector.stop();
                  logCollector.stop();
                  images.collector().stop();
                  forgeStatuses.stop();
                }
              })
          .ifPresent(o::withLeaderElectionConfiguration);
    });
    // one sealer for the jobs' secrets and the repositories' webhook secrets: the key the report API opens them with
    Supplier<Sealer> sealer = SealKeyStore.lazySealer(client, config.operatorNamespace(),
        config.secrets().sealKeySecret());
    // the trust domains' binary caches (docs/images.md#binary-cache): read tokens under a key derived from the seal key
    BinaryCache binaryCache = binaryCache(config, client, sealer, clock);
    if (binaryCache != null) {
      images.enableCache(binaryCache, events, Path.of(System.getProperty("java.io.tmpdir")));
    }
    operator.register(new NixekJobReconciler(client, config, provider, images.resolver(), tokens, events,
        clock, crashPoints, new JobLogCleanup(logStore), metrics.jobs(), sealer).withBinaryCache(binaryCache), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    operator.register(images.reconciler(), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    // repositories: the webhook secret is sealed for the report API with the shared seal key (docs/repositories.md)
    // where pods cannot run (the evaluation runner is local), commits are evaluated by local processes, as jobs are
    boolean localEvaluations = config.evaluation().runnerFor(provider.name(), provider.requiresImage())
        == dev.nixek.ci.operator.config.EvaluationOptions.Runner.LOCAL;
    operator.register(new NixekRepositoryReconciler(client, config, clock, events, sealer, new ForgeClient(),
        localEvaluations ? new dev.nixek.ci.operator.evaluation.LocalCommitEvaluations(config) : null), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    try {
      operator.start();
    } catch (RuntimeException e) {
      operator.stop(); // its informer threads would keep the JVM alive
      forgeStatuses.close();
      images.close();
      metrics.close();
      throw e;
    }
    if (!config.leaderElection().enabled()) {
      collector.start();
      logCollector.start();
      images.startCollector();
      forgeStatuses.start();
    }
    HealthServer health = new HealthServer(config.healthPort(),
        () -> operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy(),
        metrics::scrape);
    return new Running(operator, health, collector, provider, images,
        config.leaderElection().enabled() ? election : null, logCollector,
        seams.logStore() == null ? logStore : null, metrics, forgeStatuses);
  }

  /** The binary cache of the configuration; null when it is off ({@code NIXEK_CACHE_ENABLED}). */
  static BinaryCache binaryCache(OperatorConfig config, KubernetesClient client, Supplier<Sealer> sealer,
      Clock clock) {
    CacheOptions options = config.cache();
    if (!options.enabled()) {
      return null;
    }
    CacheLayout layout = new CacheLayout(options.keyPrefix(), config.clusterId());
    URI url = options.url().orElseGet(() -> URI.create(
        config.evaluation().reportUrl(config.reportUrl()).toString().replaceAll("/+$", "") + "/v1/cache"));
    LOG.info("binary cache: s3://{}/{}/{}/<domain>/, served to pods at {}", options.bucketOr(config.images().bucket()),
        options.keyPrefix(), config.clusterId(), url);
    return new BinaryCache(layout, options.bucketOr(config.images().bucket()), url,
        config.images().trust().trustDomain(), new CacheKeyStore(client, config.operatorNamespace(), options.keySecret(), layout), sealer,
        clock);
  }

  /** The log store the configuration names (NIXEK_LOG_STORE and its siblings, shared with the report API). */
  static LogStore logStore(OperatorConfig config, AwsCredentialsProvider credentials) {
    LogStore logs = credentials == null ? LogStores.open(config.logs().store())
        : LogStores.open(config.logs().store(), credentials);
    // a job's artifacts go when and as its logs go (finalizer, collector, retention): docs/artifacts.md
    return new dev.nixek.ci.common.logs.ArtifactCleanup(logs, credentials == null
        ? dev.nixek.ci.common.logs.ArtifactStores.open(config.logs().store(), config.logs().artifacts())
        : dev.nixek.ci.common.logs.ArtifactStores.open(config.logs().store(), config.logs().artifacts(), credentials));
  }

  /** The log collector's loop; with no store, a loop that does nothing. */
  private static CollectorLoop logCollector(OperatorConfig config, KubernetesClient client, LogStore store,
      Clock clock) {
    Runnable pass = store == null ? () -> { }
        : new LogCollector(client, store, config.watchNamespaces(), config.logs().retention(), clock)::collect;
    // a minute after start-up: the machine collector goes first, and logs wait a little longer without harm
    return new CollectorLoop("log collector", pass, Duration.ofMinutes(1), config.lifecycle().collectorInterval());
  }

  /** The machine provider the configuration names, with the SDK's default AWS credentials. */
  public static MachineProvider provider(OperatorConfig config, Clock clock) {
    return provider(config, clock, null, null);
  }

  /** The machine provider the configuration names; {@code credentials} null for the SDK's default chain. */
  static MachineProvider provider(OperatorConfig config, Clock clock, AwsCredentialsProvider credentials,
      OperatorMetrics metrics) {
    var interceptor = metrics == null ? null : metrics.aws();
    return switch (config.provider()) {
      case LOCAL -> new LocalMachineProvider(config.localStateDir(), config.localAgentCommand(), config.clusterId(),
          clock);
      case EC2 -> new Ec2MachineProvider(new AwsClients(config.aws(), credentials == null
          ? DefaultCredentialsProvider.builder().build() : credentials, interceptor), config.ec2(), config.clusterId(),
          config.pollInterval(), clock);
    };
  }
}
