package dev.nixek.ci.report;

import static dev.nixek.ci.common.config.Parsers.dnsLabels;
import static dev.nixek.ci.common.config.Parsers.intRange;
import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.status.FieldManagers;
import dev.nixek.ci.common.status.ObjectBudget;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The report API's configuration, read once from the environment at start-up. Every option has a default; a value
 * that cannot be used fails start-up with a {@link ConfigException} naming the option.
 *
 * @param bindHost address the HTTP server binds to
 * @param port TCP port, 0 for a free one
 * @param bodyLimitBytes largest request body accepted (413 above)
 * @param evaluationLimitBytes largest evaluation result accepted (413 above)
 * @param outputTailBytes per-step output tail kept in status when the job has few steps
 * @param outputTailBudgetBytes all tails of one job together
 * @param fieldManager field manager of the report API's status writes (the Kubernetes client's User-Agent)
 * @param watchNamespaces namespaces whose jobs report here; empty for all
 * @param workerThreads threads that make the (blocking) Kubernetes API calls
 * @param readyMaxAge how recent the last successful Kubernetes API call must be for /readyz to say ready
 * @param maxConnections open connections at most; more are closed at once
 * @param requestTimeout longest a request may take from its first byte to its answer (408 after)
 * @param authFailuresPerMinute failed authentications one client address may make per minute before 429
 * @param jobQueueLimit reports of one job queued or being written at most (429 above)
 * @param jobReportsPerSecond reports one job may send per second, twice that at once (429 above)
 * @param statusIntervalMillis how often at most one job's acknowledged output is written to its status
 * @param logStepLimitBytes bytes of one step's output the log store keeps before the step's log is cut
 * @param logJobLimitBytes bytes of all of one job's steps' output the log store keeps
 * @param metricsPort TCP port of {@code /metrics}, 0 for a free one, -1 for none
 * @param seal where the seal key is (the job secrets endpoint opens what the operator sealed)
 */
public record ReportApiConfig(
    String bindHost,
    int port,
    int bodyLimitBytes,
    int evaluationLimitBytes,
    int outputTailBytes,
    int outputTailBudgetBytes,
    String fieldManager,
    List<String> watchNamespaces,
    int workerThreads,
    Duration readyMaxAge,
    int maxConnections,
    Duration requestTimeout,
    int authFailuresPerMinute,
    int jobQueueLimit,
    int jobReportsPerSecond,
    int statusIntervalMillis,
    long logStepLimitBytes,
    long logJobLimitBytes,
    int metricsPort,
    dev.nixek.ci.common.seal.SealKeyOptions seal) {

  public static final ConfigOption<String> BIND = new ConfigOption<>("NIXEK_REPORT_BIND", "0.0.0.0",
      "Address the HTTP server binds to.", ReportApiConfig::hostName);
  public static final ConfigOption<Integer> PORT = new ConfigOption<>("NIXEK_REPORT_PORT", "8080",
      "TCP port to listen on, 0..65535; 0 picks a free port. The bound port is printed on stdout as the line "
      + "'nixek-report-api listening on port N'.", intRange(0, 65535));
  public static final ConfigOption<Integer> BODY_LIMIT_BYTES = new ConfigOption<>("NIXEK_REPORT_BODY_LIMIT_BYTES",
      "32768", "Largest request body accepted, 1024..16777216 bytes; larger bodies get 413 without being buffered. "
      + "A full 16 KiB output chunk is about 22 KiB as JSON.", intRange(1024, 16 * 1024 * 1024));
  public static final ConfigOption<Integer> EVALUATION_LIMIT_BYTES = new ConfigOption<>(
      "NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "229376", "Largest evaluation result an evaluation pod may post (its "
      + "job's steps with their full definitions), 1024..4194304 bytes; larger results get 413 without being buffered "
      + "and the job ends EvaluationFailed. Start-up fails if, with the output tail options, a job could grow past "
      + "etcd's 1.5 MiB object limit.", intRange(1024, 4 * 1024 * 1024));
  public static final ConfigOption<Integer> OUTPUT_TAIL_BYTES = new ConfigOption<>("NIXEK_OUTPUT_TAIL_BYTES", "4096",
      "Bytes of each step's output kept in status.steps[].outputTail, 1..65536 (less when the job has many steps, "
      + "see NIXEK_OUTPUT_TAIL_BUDGET_BYTES).", intRange(1, 64 * 1024));
  public static final ConfigOption<Integer> OUTPUT_TAIL_BUDGET_BYTES = new ConfigOption<>(
      "NIXEK_OUTPUT_TAIL_BUDGET_BYTES", "131072", "Bytes of output tail for all steps of one job together, "
      + "1..1048576, so that the status of a job with many steps stays small.", intRange(1, 1024 * 1024));
  public static final ConfigOption<String> FIELD_MANAGER = new ConfigOption<>("NIXEK_REPORT_FIELD_MANAGER",
      FieldManagers.REPORT_API, "Field manager of the report API's writes of status.steps (distinct from the "
      + "operator's). Sent as the Kubernetes client's User-Agent: the API server names the manager of a write without "
      + "a fieldManager parameter after it.",
      matching("[\\x21-\\x7e]{1,128}", "1..128 printable ASCII characters without spaces", false));
  public static final ConfigOption<List<String>> WATCH_NAMESPACES = new ConfigOption<>("NIXEK_WATCH_NAMESPACES", "",
      "Comma-separated namespaces whose jobs may report here; empty for all namespaces. Only these namespaces' jobs "
      + "are watched for their token records.", dnsLabels());
  public static final ConfigOption<Integer> WORKER_THREADS = new ConfigOption<>("NIXEK_REPORT_WORKER_THREADS", "16",
      "Threads making Kubernetes API calls, 1..512 (the event loop never blocks).", intRange(1, 512));
  public static final ConfigOption<Duration> READY_MAX_AGE_SECONDS = new ConfigOption<>(
      "NIXEK_READY_MAX_AGE_SECONDS", "30", "/readyz answers 200 while the last successful Kubernetes API call is at "
      + "most this old, 1..3600 seconds; the API is probed at a third of it.", seconds(1, 3600));

  public static final ConfigOption<Integer> MAX_CONNECTIONS = new ConfigOption<>("NIXEK_REPORT_MAX_CONNECTIONS",
      "1024", "Open connections at most, 1..65536; a connection over it is closed at once. Each running agent keeps "
      + "one or two.", intRange(1, 65536));
  public static final ConfigOption<Duration> REQUEST_TIMEOUT_SECONDS = new ConfigOption<>(
      "NIXEK_REPORT_REQUEST_TIMEOUT_SECONDS", "30", "Longest a request may take from its first byte to its answer, "
      + "1..600 seconds: a body sent too slowly gets 408 and its connection is closed; a connection that sends "
      + "nothing for this long is closed too.", seconds(1, 600));
  public static final ConfigOption<Integer> AUTH_FAILURES_PER_MINUTE = new ConfigOption<>(
      "NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", "30", "Failed authentications (401/403) one client address may make "
      + "per minute (all at once, or spread), 1..100000; after that it gets 429 with Retry-After. A good token is never "
      + "limited.", intRange(1, 100_000));
  public static final ConfigOption<Integer> JOB_QUEUE_LIMIT = new ConfigOption<>("NIXEK_REPORT_JOB_QUEUE_LIMIT", "16",
      "Reports of one job waiting or being written at most, 1..1024; one more gets 429 with Retry-After (the agent "
      + "sends the same report again after it).", intRange(1, 1024));
  public static final ConfigOption<Integer> JOB_REPORTS_PER_SECOND = new ConfigOption<>(
      "NIXEK_REPORT_JOB_REPORTS_PER_SECOND", "1000", "Reports one job may send per second, 1..10000, and twice that at "
      + "once; one more gets 429 with Retry-After. An output chunk costs a log store write and no Kubernetes API call "
      + "(docs/logs.md#ingest-and-coalesced-status), so this only keeps one noisy step (up to 16 MiB/s of full "
      + "chunks at the default) from taking the report API and the store from the other jobs.",
      intRange(1, 10_000));
  public static final ConfigOption<Integer> STATUS_INTERVAL_MILLIS = new ConfigOption<>(
      "NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "1000", "A job's acknowledged output (status.steps[].outputTail, "
      + "outputBytes, outputChunks) is written to its status at most once per this many milliseconds, 100..60000; a "
      + "step's start and end are written at once. Lower means a fresher tail and more Kubernetes API writes.",
      intRange(100, 60_000));
  public static final ConfigOption<Long> LOG_STEP_LIMIT_BYTES = new ConfigOption<>(LogLimits.STEP_OPTION,
      "1073741824", "Bytes of one step's output the log store keeps, 1..1099511627776 (default 1 GiB). A step that "
      + "prints more is cut: its log ends with one marker line, later output is acknowledged but not stored, "
      + "status.steps[].outputCutAtBytes says where; the step is not failed for it.", longRange(1, 1L << 40));
  public static final ConfigOption<Long> LOG_JOB_LIMIT_BYTES = new ConfigOption<>(LogLimits.JOB_OPTION,
      "10737418240", "Bytes of all of one job's steps' output the log store keeps, 1..1099511627776 (default "
      + "10 GiB); the step that goes past it is cut as for " + LogLimits.STEP_OPTION + ", and later steps store only "
      + "the marker line.", longRange(1, 1L << 40));

  public static final ConfigOption<Integer> METRICS_PORT = new ConfigOption<>("NIXEK_REPORT_METRICS_PORT", "0",
      "TCP port of /metrics (Prometheus text), on NIXEK_REPORT_BIND but apart from NIXEK_REPORT_PORT, which agents "
      + "reach and may face the internet; 0..65535, 0 picks a free port (printed on stdout as 'nixek-report-api "
      + "metrics on port N'), -1 serves no metrics. The chart sets 8082.", intRange(-1, 65535));

  /** Every option, for {@code --help} and the chart. */
  public static final List<ConfigOption<?>> OPTIONS = java.util.stream.Stream.of(List.<ConfigOption<?>>of(BIND, PORT,
      BODY_LIMIT_BYTES, EVALUATION_LIMIT_BYTES, OUTPUT_TAIL_BYTES, OUTPUT_TAIL_BUDGET_BYTES, FIELD_MANAGER,
      WATCH_NAMESPACES, WORKER_THREADS, READY_MAX_AGE_SECONDS, MAX_CONNECTIONS, REQUEST_TIMEOUT_SECONDS,
      AUTH_FAILURES_PER_MINUTE, JOB_QUEUE_LIMIT, JOB_REPORTS_PER_SECOND, STATUS_INTERVAL_MILLIS, LOG_STEP_LIMIT_BYTES,
      LOG_JOB_LIMIT_BYTES, METRICS_PORT), LogStoreOptions.OPTIONS, WebhookConfig.OPTIONS,
      dev.nixek.ci.common.logs.ArtifactOptions.OPTIONS, dev.nixek.ci.common.seal.SealKeyOptions.OPTIONS,
      CacheViewConfig.OPTIONS)
      .<ConfigOption<?>>flatMap(List::stream).toList();

  public ReportApiConfig {
    watchNamespaces = List.copyOf(watchNamespaces);
  }

  /**
   * The configuration from these environment variables; unset or blank variables take their default. Maximums that
   * together could make a job's object larger than etcd accepts are refused ({@link ObjectBudget}).
   */
  public static ReportApiConfig fromEnv(Map<String, String> env) {
    ReportApiConfig c = new ReportApiConfig(
        BIND.read(env),
        PORT.read(env),
        BODY_LIMIT_BYTES.read(env),
        EVALUATION_LIMIT_BYTES.read(env),
        OUTPUT_TAIL_BYTES.read(env),
        OUTPUT_TAIL_BUDGET_BYTES.read(env),
        FIELD_MANAGER.read(env),
        WATCH_NAMESPACES.read(env),
        WORKER_THREADS.read(env),
        READY_MAX_AGE_SECONDS.read(env),
        MAX_CONNECTIONS.read(env),
        REQUEST_TIMEOUT_SECONDS.read(env),
        AUTH_FAILURES_PER_MINUTE.read(env),
        JOB_QUEUE_LIMIT.read(env),
        JOB_REPORTS_PER_SECOND.read(env),
        STATUS_INTERVAL_MILLIS.read(env),
        LOG_STEP_LIMIT_BYTES.read(env),
        LOG_JOB_LIMIT_BYTES.read(env),
        METRICS_PORT.read(env),
        dev.nixek.ci.common.seal.SealKeyOptions.fromEnv(env));
    if (c.metricsPort() > 0 && c.metricsPort() == c.port()) {
      throw new ConfigException(METRICS_PORT.key() + "=" + c.metricsPort() + " is " + PORT.key()
          + ": metrics need a port of their own, apart from the agents'");
    }
    checkObjectBudget(c.evaluationLimitBytes(), c.outputTailBytes(), c.outputTailBudgetBytes());
    return c;
  }

  /** Refuses maximums that add up past etcd's object limit, naming the options to lower. */
  static void checkObjectBudget(int evaluationLimitBytes, int tailBytes, int tailBudgetBytes) {
    long worst = ObjectBudget.worstObject(evaluationLimitBytes, tailBytes, tailBudgetBytes);
    if (worst > ObjectBudget.ETCD_OBJECT_LIMIT) {
      throw new ConfigException(EVALUATION_LIMIT_BYTES.key() + "=" + evaluationLimitBytes + ", "
          + OUTPUT_TAIL_BYTES.key() + "=" + tailBytes + " and " + OUTPUT_TAIL_BUDGET_BYTES.key() + "="
          + tailBudgetBytes + " let a job of up to " + StepRules.MAX_STEPS + " steps and its checkout step ("
          + ObjectBudget.MAX_STORED_STEPS + " in status) grow to " + worst
          + " bytes (evaluation " + evaluationLimitBytes + ", output tails " + ObjectBudget.worstTails(tailBytes,
          tailBudgetBytes) + ", step fields "
          + (long) ObjectBudget.MAX_STORED_STEPS * ObjectBudget.STEP_STATUS_MAX_BYTES
          + ", reserve " + ObjectBudget.RESERVE_BYTES + ", sealed secrets " + ObjectBudget.SEALED_SECRETS_MAX_BYTES
          + ", artifact entries " + ObjectBudget.ARTIFACT_STATUS_MAX_BYTES + "), past etcd's object limit of "
          + ObjectBudget.ETCD_OBJECT_LIMIT + " bytes: lower one of them");
    }
  }

  /** How much output the log store keeps per step and per job. */
  LogLimits logLimits() {
    return new LogLimits(logStepLimitBytes, logJobLimitBytes);
  }

  private static java.util.function.Function<String, Long> longRange(long min, long max) {
    return s -> {
      long v;
      try {
        v = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected an integer");
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException("expected an integer from " + min + " to " + max);
      }
      return v;
    };
  }

  private static String hostName(String s) {
    if (s.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("expected an address or host name");
    }
    return s;
  }

  /** Every option with its default and description, for {@code --help}. */
  public static String describe() {
    StringBuilder sb = new StringBuilder();
    for (ConfigOption<?> o : OPTIONS) {
      sb.append(o.key()).append(" (default: '").append(o.defaultValue()).append("')\n    ")
          .append(o.description()).append('\n');
    }
    return sb.toString();
  }
}
