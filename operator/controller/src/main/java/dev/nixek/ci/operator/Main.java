package dev.nixek.ci.operator;

import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.ConfigOption;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.ImageModule;
import dev.nixek.ci.operator.job.NixekJobReconciler;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.machine.MachineSweeper;
import dev.nixek.ci.operator.machine.local.LocalMachineProvider;
import dev.nixek.ci.operator.token.TokenKeyStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.util.HashSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator's entry point: builds the whole graph by hand (no DI container) and starts it. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && ("--help".equals(args[0]) || "options".equals(args[0]))) {
      for (ConfigOption<?> o : OperatorConfig.OPTIONS) {
        System.out.printf("%-28s default '%s'%n    %s%n", o.key(), o.defaultValue(), o.description());
      }
      return;
    }
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnv(System.getenv());
    } catch (ConfigOption.ConfigException e) {
      System.err.println("nixek-operator: invalid configuration: " + e.getMessage());
      System.exit(64);
      return;
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    Running running = start(config, client, Clock.systemUTC());
    Runtime.getRuntime().addShutdownHook(new Thread(running::close, "nixek-operator-shutdown"));
    LOG.info("nixek-operator started: provider={}, health port {}", config.provider(), running.healthPort());
  }

  /** A started operator; closing it stops it (the machines it launched keep running). */
  public record Running(Operator operator, HealthServer health, ImageModule images) implements AutoCloseable {
    public int healthPort() {
      return health.port();
    }

    @Override
    public void close() {
      health.close();
      operator.stop();
      images.close();
    }
  }

  /** Builds and starts the operator: also what tests run, with their own client and clock. */
  public static Running start(OperatorConfig config, KubernetesClient client, Clock clock) throws Exception {
    return start(config, client, clock, provider(config, clock));
  }

  /** As {@link #start(OperatorConfig, KubernetesClient, Clock)}, with a given machine provider (tests). */
  public static Running start(OperatorConfig config, KubernetesClient client, Clock clock, MachineProvider provider)
      throws Exception {
    return start(config, client, clock, provider, ImageModule.Seams.production());
  }

  /** As above, with the images' test seams (AWS credentials, crash points). */
  public static Running start(OperatorConfig config, KubernetesClient client, Clock clock, MachineProvider provider,
      ImageModule.Seams imageSeams) throws Exception {
    JobTokens tokens = TokenKeyStore.load(client, config.operatorNamespace(), config.tokenKeySecret());
    int swept = new MachineSweeper(client, provider).sweep();
    if (swept > 0) {
      LOG.info("terminated {} machines of jobs that are gone or ended", swept);
    }
    EventRecorder events = new EventRecorder(client, clock);
    Operator operator = new Operator(o -> o
        .withKubernetesClient(client)
        .withCloseClientOnStop(false)
        .withConcurrentReconciliationThreads(config.reconcileThreads())
        .withUseSSAToPatchPrimaryResource(config.useSsa())
        .withSSABasedCreateUpdateMatchForDependentResources(config.useSsa()));
    ImageModule images = ImageModule.create(config, client, clock, events, imageSeams);
    operator.register(new NixekJobReconciler(client, config, provider, images.resolver(), tokens, events,
        clock), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    operator.register(images.reconciler(), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    operator.start();
    images.startCollector();
    HealthServer health = new HealthServer(config.healthPort(),
        () -> operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy());
    return new Running(operator, health, images);
  }

  private static MachineProvider provider(OperatorConfig config, Clock clock) {
    return switch (config.provider()) {
      case LOCAL -> new LocalMachineProvider(config.localStateDir(), config.localAgentCommand(), config.clusterId(),
          clock);
      case EC2 -> throw new IllegalStateException("NIXEK_PROVIDER=ec2 is not available in this build yet");
    };
  }
}
