package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.intRange;

import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.common.logs.LogStoreOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How long the operator keeps step logs in the log store (docs/logs.md#clean-up-retention-limits-and-iam). A job's
 * logs always go when the job is deleted; this only shortens how long they may stay while it exists. Part of
 * {@link OperatorConfig}, with where the store is (NIXEK_LOG_STORE and its siblings: the store's own options, the same
 * as the report API's).
 *
 * @param retention logs whose newest object is older than this are deleted; zero keeps them while the job exists
 * @param store the log store the report API writes and the operator cleans up
 */
public record LogCleanupOptions(Duration retention, LogStoreOptions store,
    dev.nixek.ci.common.logs.ArtifactOptions artifacts) {
  /** With the default artifact options. */
  public LogCleanupOptions(Duration retention, LogStoreOptions store) {
    this(retention, store, dev.nixek.ci.common.logs.ArtifactOptions.defaults());
  }

  public static final ConfigOption<Integer> RETENTION_DAYS = new ConfigOption<>("NIXEK_LOG_RETENTION_DAYS", "0",
      "days a job's step logs are kept after their last write, job or no job; 0 keeps them until the job is deleted",
      intRange(0, 36500));

  public static final List<ConfigOption<?>> OPTIONS = java.util.stream.Stream.of(List.<ConfigOption<?>>of(
      RETENTION_DAYS), LogStoreOptions.OPTIONS, List.<ConfigOption<?>>of(
      dev.nixek.ci.common.logs.ArtifactOptions.S3_PREFIX)).<ConfigOption<?>>flatMap(List::stream).toList();

  public static LogCleanupOptions fromEnv(Map<String, String> env) {
    // the artifacts' place too: they are deleted with the logs (docs/artifacts.md)
    return new LogCleanupOptions(Duration.ofDays(RETENTION_DAYS.read(env)), LogStoreOptions.fromEnv(env),
        dev.nixek.ci.common.logs.ArtifactOptions.fromEnv(env));
  }

  /** Whether logs expire while their job exists. */
  public boolean expires() {
    return !retention.isZero();
  }
}
