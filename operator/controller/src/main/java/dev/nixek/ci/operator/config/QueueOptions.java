package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.intRange;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * How many jobs a namespace may run at once, and how long finished jobs are kept
 * (docs/operations.md#queues-retries-and-ttl). Part of {@link OperatorConfig}.
 *
 * <p>Per-namespace limits are an operator option rather than a namespace annotation or a policy resource: reading
 * Namespace objects needs a cluster-scoped grant even for an operator that watches a few namespaces, and a policy
 * resource in the tenant's namespace is writable by whoever may edit it there; an option only the installation's
 * owner can change needs neither.
 *
 * @param maxRunningPerNamespace the limit of namespaces not in {@code byNamespace}; 0: unlimited
 * @param byNamespace limits of named namespaces (0: unlimited), over {@code maxRunningPerNamespace}
 * @param ttlAfterFinished how long a finished job without {@code spec.ttlSecondsAfterFinished} is kept; empty: kept
 */
public record QueueOptions(int maxRunningPerNamespace, Map<String, Integer> byNamespace,
    Optional<Duration> ttlAfterFinished) {
  static final int MAX_LIMIT = 100_000;

  public static final ConfigOption<Integer> MAX_RUNNING_JOBS_PER_NAMESPACE = new ConfigOption<>(
      "NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE", "0",
      "jobs of one namespace whose machines may be launched and not finished at once; more wait Queued, in "
      + "creation order (0: unlimited)", intRange(0, MAX_LIMIT));
  public static final ConfigOption<Map<String, Integer>> MAX_RUNNING_JOBS_BY_NAMESPACE = new ConfigOption<>(
      "NIXEK_MAX_RUNNING_JOBS_BY_NAMESPACE", "",
      "per-namespace limits over NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE, comma-separated namespace=limit (e.g. "
      + "team-a=4,team-b=0; 0: unlimited)", limits());
  public static final ConfigOption<Optional<Duration>> JOB_TTL_SECONDS_AFTER_FINISHED = new ConfigOption<>(
      "NIXEK_JOB_TTL_SECONDS_AFTER_FINISHED", "",
      "a finished job without spec.ttlSecondsAfterFinished is deleted this many seconds after it finished (empty: "
      + "kept)", optionalSeconds());

  public static final List<ConfigOption<?>> OPTIONS = List.of(MAX_RUNNING_JOBS_PER_NAMESPACE,
      MAX_RUNNING_JOBS_BY_NAMESPACE, JOB_TTL_SECONDS_AFTER_FINISHED);

  public QueueOptions {
    byNamespace = Map.copyOf(byNamespace);
  }

  public static QueueOptions fromEnv(Map<String, String> env) {
    return new QueueOptions(MAX_RUNNING_JOBS_PER_NAMESPACE.read(env), MAX_RUNNING_JOBS_BY_NAMESPACE.read(env),
        JOB_TTL_SECONDS_AFTER_FINISHED.read(env));
  }

  /** No limit, jobs kept: what an operator configured with nothing gets. */
  public static QueueOptions none() {
    return new QueueOptions(0, Map.of(), Optional.empty());
  }

  /** The limit of {@code namespace}; 0: unlimited. */
  public int limitFor(String namespace) {
    return byNamespace.getOrDefault(namespace, maxRunningPerNamespace);
  }

  private static Function<String, Map<String, Integer>> limits() {
    Function<String, String> namespace = dnsLabel();
    Function<String, Integer> limit = intRange(0, MAX_LIMIT);
    return s -> {
      Map<String, Integer> out = new LinkedHashMap<>();
      if (s == null || s.isEmpty()) {
        return out;
      }
      for (String entry : s.split(",")) {
        String e = entry.trim();
        int eq = e.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("'" + e + "' is not namespace=limit");
        }
        String ns = e.substring(0, eq).trim();
        try {
          namespace.apply(ns);
        } catch (IllegalArgumentException bad) {
          throw new IllegalArgumentException("'" + ns + "' is not a namespace name: " + bad.getMessage());
        }
        Integer v;
        try {
          v = limit.apply(e.substring(eq + 1).trim());
        } catch (IllegalArgumentException bad) {
          throw new IllegalArgumentException("limit of " + ns + ": " + bad.getMessage());
        }
        if (out.put(ns, v) != null) {
          throw new IllegalArgumentException("namespace " + ns + " is given twice");
        }
      }
      return out;
    };
  }

  private static Function<String, Optional<Duration>> optionalSeconds() {
    return s -> {
      if (s == null || s.isEmpty()) {
        return Optional.empty();
      }
      long v;
      try {
        v = Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected a number of seconds, or nothing to keep finished jobs");
      }
      if (v < 0 || v > 31_536_000) {
        throw new IllegalArgumentException("expected seconds from 0 to 31536000");
      }
      return Optional.of(Duration.ofSeconds(v));
    };
  }
}
