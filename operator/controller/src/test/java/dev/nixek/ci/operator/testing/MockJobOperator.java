package dev.nixek.ci.operator.testing;

import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.image.NamedImageResolver;
import dev.nixek.ci.operator.job.CrashPoints;
import dev.nixek.ci.operator.job.NixekJobReconciler;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.token.TokenKeyStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The job reconciler alone on the fabric8 mock API server: server-side apply off (the mock has none), polling every
 * second, the token key in {@code namespace}; {@code extra} adds or overrides options.
 */
public final class MockJobOperator implements AutoCloseable {
  private final Operator operator;
  private final JobTokens tokens;

  private MockJobOperator(Operator operator, JobTokens tokens) {
    this.operator = operator;
    this.tokens = tokens;
  }

  public static MockJobOperator start(KubernetesClient client, MachineProvider provider, String namespace,
      Map<String, String> extra) {
    TestJobs.createCrds(client);
    Map<String, String> env = new HashMap<>();
    env.put("NIXEK_USE_SSA", "false");
    env.put("NIXEK_POLL_SECONDS", "1");
    env.put("NIXEK_OPERATOR_NAMESPACE", namespace);
    env.putAll(extra);
    OperatorConfig config = OperatorConfig.fromEnv(env);
    JobTokens tokens = TokenKeyStore.load(client, config.operatorNamespace(), config.tokenKeySecret());
    Operator operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withUseSSAToPatchPrimaryResource(false).withSSABasedCreateUpdateMatchForDependentResources(false));
    operator.register(new NixekJobReconciler(client, config, provider, new NamedImageResolver(client), tokens,
        new EventRecorder(client, Clock.systemUTC()), Clock.systemUTC(), CrashPoints.NONE));
    operator.start();
    return new MockJobOperator(operator, tokens);
  }

  /** The tokens the operator derives (from the key it created). */
  public JobTokens tokens() {
    return tokens;
  }

  @Override
  public void close() {
    operator.stop();
  }
}
