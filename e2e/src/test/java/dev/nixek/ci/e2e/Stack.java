package dev.nixek.ci.e2e;

import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.Seams;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.machine.MachineProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * nixek-ci as it runs in production, for end-to-end tests: the report API as its own process (its jar), the
 * operator in this JVM (so tests can stop and restart it), the {@code local} provider starting the real agent jar.
 */
public final class Stack implements AutoCloseable {
  private static final Path HOME = Path.of(System.getProperty("nixek.home", "..")).toAbsolutePath().normalize();

  private final KubernetesClient client;
  private final Path kubeconfig;
  private final Path work;
  private final int reportPort;
  private final Map<String, String> operatorEnv;
  private final Map<String, String> reportEnv;
  private final MachineProvider provider;
  private final Runnable onFatal;
  private final AtomicInteger fatalErrors = new AtomicInteger();
  private Process reportApi;
  private Main.Running operator;
  private int reportApiStarts;

  /**
   * What a stack runs with beyond its defaults: extra environment of the operator and of the report API (e.g. the
   * configuration a Helm chart renders), the report API's port (0: a free one), a machine provider (null: the
   * configured one) and what the operator does when it can no longer work — lost its Lease, an informer died
   * (null: count it, see {@link #fatalErrors()}; production exits).
   */
  public record Options(Map<String, String> operatorEnv, Map<String, String> reportEnv, int reportPort,
      MachineProvider provider, Runnable onFatal) {
    public static Options of(Map<String, String> operatorEnv) {
      return new Options(operatorEnv, Map.of(), 0, null, null);
    }
  }

  private Stack(KubernetesClient client, Path kubeconfig, Path work, boolean useSsa, Options options)
      throws IOException {
    Map<String, String> extraEnv = options.operatorEnv();
    this.client = client;
    this.provider = options.provider();
    this.onFatal = options.onFatal() != null ? options.onFatal() : fatalErrors::incrementAndGet;
    this.kubeconfig = kubeconfig;
    this.work = work;
    this.reportPort = options.reportPort() != 0 ? options.reportPort() : freePort();
    operatorEnv = new HashMap<>();
    operatorEnv.put("NIXEK_PROVIDER", "local");
    operatorEnv.put("NIXEK_USE_SSA", Boolean.toString(useSsa));
    operatorEnv.put("NIXEK_REPORT_URL", "http://127.0.0.1:" + reportPort);
    operatorEnv.put("NIXEK_OPERATOR_NAMESPACE", "default");
    operatorEnv.put("NIXEK_HEALTH_PORT", "0");
    operatorEnv.put("NIXEK_POLL_SECONDS", "1");
    operatorEnv.put("NIXEK_LOCAL_STATE_DIR", work.resolve("machines").toString());
    operatorEnv.put("NIXEK_LOCAL_AGENT_COMMAND", String.join(" ", javaJar("agent/target/nixek-agent.jar")));
    // one local log store for both processes, in the test's work directory (an extraEnv may name another)
    Map<String, String> logStore = Map.of("NIXEK_LOG_STORE", "local", "NIXEK_LOG_DIR", work.resolve("logs").toString());
    operatorEnv.putAll(logStore);
    operatorEnv.putAll(extraEnv);
    reportEnv = new HashMap<>();
    reportEnv.putAll(logStore);
    reportEnv.putAll(extraEnv.entrySet().stream().filter(e -> e.getKey().startsWith("NIXEK_LOG_"))
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
    reportEnv.put("KUBECONFIG", kubeconfig.toString());
    reportEnv.put("NIXEK_REPORT_BIND", "127.0.0.1");
    reportEnv.put("NIXEK_REPORT_PORT", Integer.toString(reportPort));
    reportEnv.putAll(options.reportEnv());
  }

  /** Starts the report API process and the operator against the cluster {@code client} and {@code kubeconfig} name. */
  public static Stack start(KubernetesClient client, Path kubeconfig, Path work, boolean useSsa,
      Map<String, String> extraEnv) throws Exception {
    return start(client, kubeconfig, work, useSsa, extraEnv, null);
  }

  /** As above, with the operator using {@code provider} instead of the configured one (null: configured). */
  public static Stack start(KubernetesClient client, Path kubeconfig, Path work, boolean useSsa,
      Map<String, String> extraEnv, MachineProvider provider) throws Exception {
    return start(client, kubeconfig, work, useSsa, new Options(extraEnv, Map.of(), 0, provider, null));
  }

  /**
   * Starts the report API process (authenticated by {@code kubeconfig}) and the operator (with {@code client}), e.g.
   * each with the credentials of its own ServiceAccount.
   */
  public static Stack start(KubernetesClient client, Path kubeconfig, Path work, boolean useSsa, Options options)
      throws Exception {
    Stack s = new Stack(client, kubeconfig, work, useSsa, options);
    try {
      s.startReportApi();
      s.startOperator();
    } catch (Exception | Error e) {
      s.close();
      throw e;
    }
    return s;
  }

  public void startReportApi() throws IOException, InterruptedException {
    Path log = work.resolve("report-api-" + (++reportApiStarts) + ".log");
    ProcessBuilder pb = new ProcessBuilder(javaJar("operator/report-api/target/nixek-report-api.jar"))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(reportEnv);
    reportApi = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!reportApi.isAlive()) {
        throw new IOException("report API exited: " + Files.readString(log, StandardCharsets.UTF_8));
      }
      if (Files.readString(log, StandardCharsets.UTF_8).contains("listening on port " + reportPort)) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IOException("report API did not start: " + Files.readString(log, StandardCharsets.UTF_8));
  }

  /** Kills the report API process (as a crash would). */
  public void killReportApi() throws InterruptedException {
    if (reportApi != null) {
      reportApi.destroyForcibly();
      reportApi.waitFor(10, TimeUnit.SECONDS);
      reportApi = null;
    }
  }

  public void startOperator() throws Exception {
    OperatorConfig config = OperatorConfig.fromEnv(operatorEnv);
    operator = Main.start(config, client, Seams.production().withProvider(provider).withOnFatal(onFatal));
  }

  /** The running operator (null while stopped). */
  public Main.Running operator() {
    return operator;
  }

  /** The operator's environment (its configuration), for starting further replicas. */
  public Map<String, String> operatorEnv() {
    return Map.copyOf(operatorEnv);
  }

  /** How often the operator could no longer work (lost its Lease, an informer died), with the default reaction. */
  public int fatalErrors() {
    return fatalErrors.get();
  }

  public void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  /** The report API's base URL, as the agents use it. */
  public String reportUrl() {
    return "http://127.0.0.1:" + reportPort;
  }

  public Path work() {
    return work;
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** The logs of every report API process started so far. */
  public String reportApiLogs() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= reportApiStarts; i++) {
      b.append(Files.readString(work.resolve("report-api-" + i + ".log"), StandardCharsets.UTF_8));
    }
    return b.toString();
  }

  @Override
  public void close() throws Exception {
    stopOperator();
    killReportApi();
  }

  public static List<String> javaJar(String relative) {
    Path jar = HOME.resolve(relative);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: the reactor builds it before this module");
    }
    List<String> argv = new ArrayList<>();
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(List.of("-XX:TieredStopAtLevel=1", "-Xmx256m", "-jar", jar.toString()));
    return argv;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A kubeconfig for a server that trusts the bearer token {@code token}. */
  public static String kubeconfig(String server, String token) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: test
          cluster:
            server: %s
            insecure-skip-tls-verify: true
        users:
        - name: test
          user:
            token: %s
        contexts:
        - name: test
          context:
            cluster: test
            user: test
            namespace: default
        current-context: test
        """.formatted(server, token);
  }

  static Duration seconds(long s) {
    return Duration.ofSeconds(s);
  }
}
