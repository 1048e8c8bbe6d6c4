package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.Seams;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.machine.local.LocalMachineProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.Map;

/** The operator as {@link Main#start} builds it, in this JVM, stoppable and restartable (crash tests). */
final class ImageOperator implements AutoCloseable {
  private final KubernetesClient client;
  private final ImageTestEnv env;
  private final OperatorConfig config;
  private final MachineProvider provider;
  private Main.Running running;
  private int starts;

  ImageOperator(KubernetesClient client, ImageTestEnv env, String namespace, Map<String, String> extraEnv,
      MachineProvider provider) {
    this.client = client;
    this.env = env;
    this.config = OperatorConfig.fromEnv(env.operatorEnv(namespace, extraEnv));
    this.provider = provider != null ? provider : new LocalMachineProvider(config.localStateDir(),
        config.localAgentCommand(), config.clusterId(), Clock.systemUTC());
  }

  OperatorConfig config() {
    return config;
  }

  ImageOperator start() throws Exception {
    return start(ImageCrashPoints.NONE);
  }

  ImageOperator start(ImageCrashPoints crashPoints) throws Exception {
    if (running != null) {
      throw new IllegalStateException("already running");
    }
    running = Main.start(config, client, Seams.production().withProvider(provider)
        .withAwsCredentials(env.credentials()).withImageCrashPoints(crashPoints)
        .withLogStore(new dev.nixek.ci.operator.testing.InMemoryLogStore()));
    starts++;
    return this;
  }

  /** Stops it: after a simulated crash, what is left of it. */
  void stop() {
    if (running != null) {
      running.close();
      running = null;
    }
  }

  Main.Running running() {
    return running;
  }

  int starts() {
    return starts;
  }

  @Override
  public void close() {
    stop();
  }
}
