package dev.nixek.ci.report;

import dev.nixek.ci.common.status.FieldManagers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

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
 * @param tokenCacheTtl how long a token found in the API is trusted without asking again; zero disables the cache
 * @param readyMaxAge how recent the last successful Kubernetes API call must be for /readyz to say ready
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
    Duration tokenCacheTtl,
    Duration readyMaxAge) {

  /** The options: environment variable, default and description. */
  public enum Option {
    BIND("NIXEK_REPORT_BIND", "0.0.0.0", "Address the HTTP server binds to."),
    PORT("NIXEK_REPORT_PORT", "8080", "TCP port to listen on, 0..65535; 0 picks a free port. The bound port is printed "
        + "on stdout as the line 'nixek-report-api listening on port N'."),
    BODY_LIMIT_BYTES("NIXEK_REPORT_BODY_LIMIT_BYTES", "32768", "Largest request body accepted, 1024..16777216 bytes; "
        + "larger bodies get 413 without being buffered. A full 16 KiB output chunk is about 22 KiB as JSON."),
    EVALUATION_LIMIT_BYTES("NIXEK_REPORT_EVALUATION_LIMIT_BYTES", "262144", "Largest evaluation result an "
        + "evaluation pod may post (its job's steps with their full definitions), 1024..4194304 bytes; larger results "
        + "get 413 without being buffered and the job ends EvaluationFailed. Status must stay far below etcd's 1.5 MiB."),
    OUTPUT_TAIL_BYTES("NIXEK_OUTPUT_TAIL_BYTES", "4096", "Bytes of each step's output kept in status.steps[].outputTail, "
        + "1..65536 (less when the job has many steps, see NIXEK_OUTPUT_TAIL_BUDGET_BYTES)."),
    OUTPUT_TAIL_BUDGET_BYTES("NIXEK_OUTPUT_TAIL_BUDGET_BYTES", "131072", "Bytes of output tail for all steps of one job "
        + "together, 1..1048576, so that the status of a job with many steps stays small."),
    FIELD_MANAGER("NIXEK_REPORT_FIELD_MANAGER", FieldManagers.REPORT_API, "Field manager of the report API's writes of "
        + "status.steps (distinct from the operator's). Sent as the Kubernetes client's User-Agent: the API server names "
        + "the manager of a write without a fieldManager parameter after it."),
    WATCH_NAMESPACES("NIXEK_WATCH_NAMESPACES", "", "Comma-separated namespaces whose jobs may report here; empty for "
        + "all namespaces. Token Secrets are looked up only in these namespaces."),
    WORKER_THREADS("NIXEK_REPORT_WORKER_THREADS", "16", "Threads making Kubernetes API calls, 1..512 (the event loop "
        + "never blocks)."),
    TOKEN_CACHE_SECONDS("NIXEK_TOKEN_CACHE_SECONDS", "60", "How long a token found in the Kubernetes API is trusted "
        + "without listing its Secret again, 0..3600 seconds; 0 disables the cache. A revoked token is still refused "
        + "at once: every report re-reads the job."),
    READY_MAX_AGE_SECONDS("NIXEK_READY_MAX_AGE_SECONDS", "30", "/readyz answers 200 while the last successful "
        + "Kubernetes API call is at most this old, 1..3600 seconds; the API is probed at a third of it.");

    private final String env;
    private final String defaultValue;
    private final String description;

    Option(String env, String defaultValue, String description) {
      this.env = env;
      this.defaultValue = defaultValue;
      this.description = description;
    }

    public String env() {
      return env;
    }

    public String defaultValue() {
      return defaultValue;
    }

    public String description() {
      return description;
    }
  }

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  public ReportApiConfig {
    watchNamespaces = List.copyOf(watchNamespaces);
  }

  /** The configuration from these environment variables; unset or blank variables take their default. */
  public static ReportApiConfig fromEnv(Map<String, String> env) {
    Reader r = new Reader(env);
    String bind = r.raw(Option.BIND);
    if (bind.chars().anyMatch(Character::isWhitespace)) {
      throw invalid(Option.BIND, bind, "must be an address or host name");
    }
    String fieldManager = r.raw(Option.FIELD_MANAGER);
    if (fieldManager.length() > 128 || fieldManager.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw invalid(Option.FIELD_MANAGER, fieldManager, "must be 1..128 printable ASCII characters without spaces");
    }
    return new ReportApiConfig(
        bind,
        r.integer(Option.PORT, 0, 65535),
        r.integer(Option.BODY_LIMIT_BYTES, 1024, 16 * 1024 * 1024),
        r.integer(Option.EVALUATION_LIMIT_BYTES, 1024, 4 * 1024 * 1024),
        r.integer(Option.OUTPUT_TAIL_BYTES, 1, 64 * 1024),
        r.integer(Option.OUTPUT_TAIL_BUDGET_BYTES, 1, 1024 * 1024),
        fieldManager,
        namespaces(r.raw(Option.WATCH_NAMESPACES)),
        r.integer(Option.WORKER_THREADS, 1, 512),
        Duration.ofSeconds(r.integer(Option.TOKEN_CACHE_SECONDS, 0, 3600)),
        Duration.ofSeconds(r.integer(Option.READY_MAX_AGE_SECONDS, 1, 3600)));
  }

  /** Every option with its default and description, for {@code --help}. */
  public static String describe() {
    StringBuilder sb = new StringBuilder();
    for (Option o : Option.values()) {
      sb.append(o.env()).append(" (default: '").append(o.defaultValue()).append("')\n    ")
          .append(o.description()).append('\n');
    }
    return sb.toString();
  }

  private static List<String> namespaces(String raw) {
    List<String> out = new ArrayList<>();
    if (raw.isBlank()) {
      return out;
    }
    for (String ns : Arrays.stream(raw.split(",")).map(String::trim).toList()) {
      if (!DNS_LABEL.matcher(ns).matches()) {
        throw invalid(Option.WATCH_NAMESPACES, raw, "'" + ns + "' is not a namespace name");
      }
      if (!out.contains(ns)) {
        out.add(ns);
      }
    }
    return out;
  }

  private static ConfigException invalid(Option o, String value, String why) {
    return new ConfigException(o.env() + "=" + "'" + value + "': " + why);
  }

  private record Reader(Map<String, String> env) {
    String raw(Option o) {
      String v = env.get(o.env());
      return v == null || v.isBlank() ? o.defaultValue() : v.trim();
    }

    int integer(Option o, int min, int max) {
      String v = raw(o);
      try {
        int i = Integer.parseInt(v);
        if (i < min || i > max) {
          throw invalid(o, v, "must be in " + min + ".." + max);
        }
        return i;
      } catch (NumberFormatException e) {
        throw invalid(o, v, "must be an integer in " + min + ".." + max);
      }
    }
  }
}
