package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.bool;
import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.intRange;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How the operator watches over jobs' machines whatever the provider: the boot timeout, launch attempts, and the
 * orphan collector (docs/ec2.md#orphan-collection). Part of {@link OperatorConfig}.
 *
 * @param bootTimeout a job whose agent sends no report this long after launch ends {@code AgentNeverReported}
 * @param maxLaunchAttempts how many launch attempts (each with its own launch token) a job may use
 * @param collectorInterval how often the orphan collector runs
 * @param collectorGrace how long a machine of a gone or ended job is left alone before the collector terminates it
 * @param maxLifetimeSlack a machine older than its job's time limit plus this is terminated whatever its job says
 */
public record LifecycleOptions(
    Duration bootTimeout,
    int maxLaunchAttempts,
    Duration collectorInterval,
    Duration collectorGrace,
    Duration maxLifetimeSlack) {

  public static final ConfigOption<Duration> BOOT_TIMEOUT = new ConfigOption<>("NIXEK_BOOT_TIMEOUT_SECONDS", "900",
      "a job whose agent has sent no report this long after its machine was launched ends AgentNeverReported "
      + "and its machine is terminated", seconds(1, 86400));
  public static final ConfigOption<Integer> MAX_LAUNCH_ATTEMPTS = new ConfigOption<>("NIXEK_MAX_LAUNCH_ATTEMPTS", "3",
      "launch attempts per job: a new attempt (new launch token) is made only when the previous attempt's machine "
      + "was terminated before anything was reported", intRange(1, 10));
  public static final ConfigOption<Duration> COLLECTOR_INTERVAL = new ConfigOption<>(
      "NIXEK_COLLECTOR_INTERVAL_SECONDS", "300", "how often the orphan collector lists this cluster's machines",
      seconds(1, 86400));
  public static final ConfigOption<Duration> COLLECTOR_GRACE = new ConfigOption<>("NIXEK_COLLECTOR_GRACE_SECONDS",
      "300", "the collector terminates a machine whose job is gone or ended only this long after launch or the "
      + "job's end (the job reconciler goes first)", seconds(0, 86400));
  public static final ConfigOption<Duration> MAX_LIFETIME_SLACK = new ConfigOption<>(
      "NIXEK_MAX_LIFETIME_SLACK_SECONDS", "1800",
      "the collector terminates any machine older than its job's time limit plus this", seconds(0, 604800));

  public static final List<ConfigOption<?>> OPTIONS = List.of(BOOT_TIMEOUT, MAX_LAUNCH_ATTEMPTS, COLLECTOR_INTERVAL,
      COLLECTOR_GRACE, MAX_LIFETIME_SLACK);

  public static LifecycleOptions fromEnv(Map<String, String> env) {
    return new LifecycleOptions(BOOT_TIMEOUT.read(env), MAX_LAUNCH_ATTEMPTS.read(env), COLLECTOR_INTERVAL.read(env),
        COLLECTOR_GRACE.read(env), MAX_LIFETIME_SLACK.read(env));
  }
}
