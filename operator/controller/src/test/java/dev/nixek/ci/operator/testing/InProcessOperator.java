package dev.nixek.ci.operator.testing;

import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.Seams;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.job.CrashPoints;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.HashMap;
import java.util.Map;

/** The operator as {@link Main#start} builds it, in this JVM, stoppable and restartable (crash tests). */
public final class InProcessOperator implements AutoCloseable {
  private final KubernetesClient client;
  private final Map<String, String> env;
  private Main.Running running;
  private int starts;
  private LogStore logStore;

  public InProcessOperator(KubernetesClient client, Map<String, String> env) {
    this.client = client;
    this.env = new HashMap<>(env);
  }

  public OperatorConfig config() {
    return OperatorConfig.fromEnv(env);
  }

  /** Changes an option for the next start. */
  public InProcessOperator set(String key, String value) {
    env.put(key, value);
    return this;
  }

  /** The log store it deletes logs from (from the next start on). */
  public InProcessOperator logStore(LogStore store) {
    this.logStore = store;
    return this;
  }

  public InProcessOperator start() throws Exception {
    return start(CrashPoints.NONE);
  }

  public InProcessOperator start(CrashPoints crashPoints) throws Exception {
    if (running != null) {
      throw new IllegalStateException("already running");
    }
    running = Main.start(config(), client, Seams.production().withCrashPoints(crashPoints)
        .withLogStore(logStore));
    starts++;
    return this;
  }

  /** Stops it (after a simulated crash: what is left of it). */
  public void stop() {
    if (running != null) {
      running.close();
      running = null;
    }
  }

  /** How often it was started. */
  public int starts() {
    return starts;
  }

  @Override
  public void close() {
    stop();
  }
}
