package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.list;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What one job may cost: the instance types it may ask for and its longest time limit. Anyone who may create a
 * NixekJob chooses both, so the installation bounds them; a job past a limit ends InvalidSpec before anything is
 * launched (JobValidator). Part of {@link OperatorConfig}.
 *
 * @param allowedInstanceTypes exact types ({@code m7i.large}), families ({@code m7i.*}) or {@code *}; empty: only
 *     the default instance type
 * @param defaultInstanceType the type of jobs that set none (always allowed)
 * @param maxJobTimeout the longest {@code spec.timeoutSeconds} a job may set
 */
public record JobLimits(List<String> allowedInstanceTypes, String defaultInstanceType, Duration maxJobTimeout) {
  private static final String ENTRY = "\\*|[a-z0-9]+[a-z0-9-]*\\.(\\*|[a-z0-9]+)";

  public static final ConfigOption<List<String>> ALLOWED_INSTANCE_TYPES = new ConfigOption<>(
      "NIXEK_EC2_ALLOWED_INSTANCE_TYPES", "",
      "comma-separated instance types a job's spec.instanceType may name: exact (m7i.large), a family (m7i.*) or "
      + "* for any; NIXEK_EC2_INSTANCE_TYPE is always allowed (empty: only it). A job asking for another ends "
      + "InvalidSpec, nothing launched", entries());
  public static final ConfigOption<Duration> MAX_JOB_TIMEOUT = new ConfigOption<>("NIXEK_MAX_JOB_TIMEOUT_SECONDS",
      "86400", "the longest spec.timeoutSeconds a job may set (at least NIXEK_JOB_TIMEOUT_SECONDS); a job asking "
      + "for more ends InvalidSpec, nothing launched", seconds(1, 604800));

  public static final List<ConfigOption<?>> OPTIONS = List.of(ALLOWED_INSTANCE_TYPES, MAX_JOB_TIMEOUT);

  /** Reads the limits; the default job timeout must be within them (the default instance type always is). */
  public static JobLimits fromEnv(Map<String, String> env, String defaultInstanceType, Duration defaultJobTimeout) {
    JobLimits limits = new JobLimits(ALLOWED_INSTANCE_TYPES.read(env), defaultInstanceType,
        MAX_JOB_TIMEOUT.read(env));
    if (defaultJobTimeout.compareTo(limits.maxJobTimeout) > 0) {
      throw new ConfigException("NIXEK_JOB_TIMEOUT_SECONDS=" + defaultJobTimeout.toSeconds() + " is more than "
          + MAX_JOB_TIMEOUT.key() + "=" + limits.maxJobTimeout.toSeconds());
    }
    return limits;
  }

  /** Whether a job may run on {@code instanceType}. */
  public boolean allows(String instanceType) {
    if (instanceType.equals(defaultInstanceType)) {
      return true;
    }
    for (String entry : allowedInstanceTypes) {
      if (entry.equals("*") || entry.equals(instanceType)
          || (entry.endsWith(".*") && instanceType.startsWith(entry.substring(0, entry.length() - 1)))) {
        return true;
      }
    }
    return false;
  }

  /** The allowed types as a job's error message lists them. */
  public String describeAllowed() {
    return allowedInstanceTypes.isEmpty() ? defaultInstanceType
        : defaultInstanceType + ", " + String.join(", ", allowedInstanceTypes);
  }

  private static Function<String, List<String>> entries() {
    return s -> {
      List<String> items = list().apply(s);
      for (String item : items) {
        if (!item.matches(ENTRY)) {
          throw new IllegalArgumentException("'" + item + "' is not an instance type (m7i.large), a family "
              + "(m7i.*) or *");
        }
      }
      return items;
    };
  }
}
