package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.command;
import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.httpUrl;
import static dev.nixek.ci.common.config.Parsers.intRange;
import static dev.nixek.ci.common.config.Parsers.list;
import static dev.nixek.ci.common.config.Parsers.oneOf;
import static dev.nixek.ci.common.config.Parsers.path;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.operator.machine.local.LocalAgentCommand;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The operator's configuration: read once at start-up from the environment (the Helm chart sets it), immutable
 * afterwards. Every option has a default and a description; {@link #OPTIONS} lists them all.
 */
public record OperatorConfig(
    Provider provider,
    URI reportUrl,
    boolean useSsa,
    List<String> watchNamespaces,
    String operatorNamespace,
    String tokenKeySecret,
    String clusterId,
    int reconcileThreads,
    int healthPort,
    Duration pollInterval,
    Duration defaultJobTimeout,
    List<String> localAgentCommand,
    Path localStateDir,
    LifecycleOptions lifecycle,
    Ec2Options ec2,
    LeaderElectionOptions leaderElection,
    AwsOptions aws,
    ImageOptions images,
    EvaluationOptions evaluation,
    JobLimits limits,
    LogCleanupOptions logs,
    QueueOptions queue,
    dev.nixek.ci.operator.config.JobSecretOptions secrets,
    RepositoryOptions repositories,
    CacheOptions cache) {

  /** Where jobs' machines run. */
  public enum Provider { LOCAL, EC2 }

  public static final ConfigOption<Provider> PROVIDER = new ConfigOption<>("NIXEK_PROVIDER", "local",
      "machine provider: 'ec2' launches one EC2 instance per job; 'local' runs the agent as a local process "
      + "(development only: job steps run as processes of the operator; not for clusters)",
      oneOf(Provider.class));
  public static final ConfigOption<URI> REPORT_URL = new ConfigOption<>("NIXEK_REPORT_URL", "http://127.0.0.1:8080",
      "base URL of the report API as the job machines reach it", httpUrl());
  public static final ConfigOption<Boolean> USE_SSA = new ConfigOption<>("NIXEK_USE_SSA", "true",
      "write status with server-side apply (production); false only for API servers without it (the demo's mock)",
      bool());
  public static final ConfigOption<List<String>> WATCH_NAMESPACES = new ConfigOption<>("NIXEK_WATCH_NAMESPACES", "",
      "comma-separated namespaces to watch; empty watches all", list());
  public static final ConfigOption<String> OPERATOR_NAMESPACE = new ConfigOption<>("NIXEK_OPERATOR_NAMESPACE",
      "default", "namespace the operator runs in (holds its token key Secret); the chart sets it from the pod",
      dnsLabel());
  public static final ConfigOption<String> TOKEN_KEY_SECRET = new ConfigOption<>("NIXEK_TOKEN_KEY_SECRET",
      "nixek-ci-token-key", "Secret (in the operator namespace) holding the key job tokens are derived from; "
      + "created at first start", dnsLabel());
  /** The cluster id of a local-provider operator that sets none. */
  public static final String LOCAL_CLUSTER_ID = "default";
  public static final ConfigOption<String> CLUSTER_ID = new ConfigOption<>("NIXEK_CLUSTER_ID", "",
      "identifies this installation on the machines and images it launches (tags), so two installations in one "
      + "account never collect each other's; required with provider ec2 (empty: refused at start), '"
      + LOCAL_CLUSTER_ID + "' for provider local", optionalDnsLabel());
  public static final ConfigOption<Boolean> ALLOW_INSECURE_REPORT_URL = new ConfigOption<>(
      "NIXEK_ALLOW_INSECURE_REPORT_URL", "false",
      "provider ec2: accept an http:// NIXEK_REPORT_URL, over which the jobs' bearer tokens cross the network in "
      + "clear (default: refused at start; https required); for private test networks only", bool());
  public static final ConfigOption<Integer> RECONCILE_THREADS = new ConfigOption<>("NIXEK_RECONCILE_THREADS", "10",
      "concurrent reconciliations", intRange(1, 200));
  public static final ConfigOption<Integer> HEALTH_PORT = new ConfigOption<>("NIXEK_HEALTH_PORT", "8081",
      "port of the /healthz, /readyz and /metrics (Prometheus) endpoints (0: pick a free port)", intRange(0, 65535));
  public static final ConfigOption<Duration> POLL_INTERVAL = new ConfigOption<>("NIXEK_POLL_SECONDS", "5",
      "how often a running job's machine is checked", seconds(1, 3600));
  public static final ConfigOption<Duration> JOB_TIMEOUT = new ConfigOption<>("NIXEK_JOB_TIMEOUT_SECONDS", "3600",
      "time limit of a job that sets no spec.timeoutSeconds", seconds(1, 604800));
  public static final ConfigOption<List<String>> LOCAL_AGENT_COMMAND = new ConfigOption<>(
      "NIXEK_LOCAL_AGENT_COMMAND", "java -jar " + LocalAgentCommand.IMAGE_JAR,
      "local provider: the command that starts the agent ('--config <file> --work-dir <dir>' are appended); where "
      + LocalAgentCommand.IMAGE_JAR + " does not exist (an operator run from a clone) the clone's "
      + "agent/target/nixek-agent.jar takes its place", command());
  public static final ConfigOption<Path> LOCAL_STATE_DIR = new ConfigOption<>("NIXEK_LOCAL_STATE_DIR",
      Path.of(System.getProperty("java.io.tmpdir"), "nixek-local-machines").toString(),
      "local provider: directory holding each local machine's files: its agent config (with the job's token; "
      + "owner-only, deleted when the machine is terminated), work dir and log", path());

  /** Every option, for documentation and the chart. */
  public static final List<ConfigOption<?>> OPTIONS = Stream.of(List.of(PROVIDER, REPORT_URL, USE_SSA,
      WATCH_NAMESPACES, OPERATOR_NAMESPACE, TOKEN_KEY_SECRET, CLUSTER_ID, ALLOW_INSECURE_REPORT_URL,
      RECONCILE_THREADS, HEALTH_PORT, POLL_INTERVAL, JOB_TIMEOUT, LOCAL_AGENT_COMMAND, LOCAL_STATE_DIR),
      LifecycleOptions.OPTIONS,
      AwsOptions.OPTIONS,
      Ec2Options.OPTIONS,
      JobLimits.OPTIONS,
      QueueOptions.OPTIONS,
      ImageOptions.OPTIONS,
      CacheOptions.OPTIONS,
      EvaluationOptions.OPTIONS,
      LeaderElectionOptions.OPTIONS,
      LogCleanupOptions.OPTIONS,
      dev.nixek.ci.operator.config.JobSecretOptions.OPTIONS,
      RepositoryOptions.OPTIONS).<ConfigOption<?>>flatMap(List::stream).toList();

  /**
   * Reads every option from {@code env}; throws {@link ConfigException} naming the first bad one, or the first
   * unsafe combination: provider ec2 with an http report URL (unless allowed) or without a cluster id.
   */
  public static OperatorConfig fromEnv(Map<String, String> env) {
    Provider provider = PROVIDER.read(env);
    URI reportUrl = REPORT_URL.read(env);
    String clusterId = CLUSTER_ID.read(env);
    boolean allowInsecure = ALLOW_INSECURE_REPORT_URL.read(env);
    if (provider == Provider.EC2) {
      if (clusterId.isEmpty()) {
        throw new ConfigException(CLUSTER_ID.key() + " is required with NIXEK_PROVIDER=ec2: it tells this "
            + "installation's instances and images from another's in the same account (e.g. prod-eu-1)");
      }
      if ("http".equals(reportUrl.getScheme()) && !allowInsecure) {
        throw new ConfigException(REPORT_URL.key() + "=" + reportUrl + ": an http URL sends the jobs' bearer "
            + "tokens in clear; use https (TLS at the load balancer or ingress), or set "
            + ALLOW_INSECURE_REPORT_URL.key() + "=true for a private test network");
      }
    } else if (clusterId.isEmpty()) {
      clusterId = LOCAL_CLUSTER_ID;
    }
    Duration jobTimeout = JOB_TIMEOUT.read(env);
    Ec2Options ec2 = Ec2Options.fromEnv(env);
    return new OperatorConfig(
        provider,
        reportUrl,
        USE_SSA.read(env),
        WATCH_NAMESPACES.read(env),
        OPERATOR_NAMESPACE.read(env),
        TOKEN_KEY_SECRET.read(env),
        clusterId,
        RECONCILE_THREADS.read(env),
        HEALTH_PORT.read(env),
        POLL_INTERVAL.read(env),
        jobTimeout,
        LOCAL_AGENT_COMMAND.read(env),
        LOCAL_STATE_DIR.read(env),
        LifecycleOptions.fromEnv(env),
        ec2,
        LeaderElectionOptions.fromEnv(env),
        AwsOptions.fromEnv(env),
        ImageOptions.fromEnv(env),
        EvaluationOptions.fromEnv(env),
        JobLimits.fromEnv(env, ec2.instanceType(), jobTimeout),
        LogCleanupOptions.fromEnv(env),
        QueueOptions.fromEnv(env),
        dev.nixek.ci.operator.config.JobSecretOptions.fromEnv(env),
        RepositoryOptions.fromEnv(env),
        CacheOptions.fromEnv(env));
  }

  /** A DNS label, or empty for none. */
  private static java.util.function.Function<String, String> optionalDnsLabel() {
    java.util.function.Function<String, String> label = dnsLabel();
    return s -> s == null || s.isEmpty() ? "" : label.apply(s);
  }
}
