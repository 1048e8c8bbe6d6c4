package dev.nixek.ci.common.logs;

import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.oneOf;
import static dev.nixek.ci.common.config.Parsers.optionalHttpUrl;
import static dev.nixek.ci.common.config.Parsers.path;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where step logs are stored (docs/logs.md#store-layout); read by the report API and the operator alike, so both open
 * the same store ({@link LogStores#open}).
 *
 * @param kind the store: a local directory or an S3 bucket
 * @param dir the local store's directory
 * @param bucket the S3 bucket (required for {@link Kind#S3})
 * @param prefix the S3 key prefix, "" or ending in '/'
 * @param region the S3 bucket's region; empty: the SDK's default region chain
 * @param endpoint an S3 endpoint override (S3-compatible stores, tests), addressed path-style
 */
public record LogStoreOptions(Kind kind, Path dir, String bucket, String prefix, String region,
    Optional<URI> endpoint) {

  /** The store's kind. */
  public enum Kind { LOCAL, S3 }

  public static final ConfigOption<Kind> STORE = new ConfigOption<>("NIXEK_LOG_STORE", "local",
      "where step logs are kept: local (a directory, NIXEK_LOG_DIR) or s3 (NIXEK_LOG_S3_BUCKET)", oneOf(Kind.class));
  public static final ConfigOption<Path> DIR = new ConfigOption<>("NIXEK_LOG_DIR", "/var/lib/nixek/logs",
      "the local log store's directory (created 0700)", path());
  public static final ConfigOption<String> S3_BUCKET = new ConfigOption<>("NIXEK_LOG_S3_BUCKET", "",
      "the S3 bucket of the s3 log store (required with NIXEK_LOG_STORE=s3)",
      matching("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", true));
  public static final ConfigOption<String> S3_PREFIX = new ConfigOption<>("NIXEK_LOG_S3_PREFIX", "logs/",
      "key prefix of the s3 log store's objects ('/' is appended when missing)", keyPrefix());
  public static final ConfigOption<String> S3_REGION = new ConfigOption<>("NIXEK_LOG_S3_REGION", "",
      "the log bucket's region (empty: the SDK's default region chain, e.g. AWS_REGION; us-east-1 with an endpoint)",
      matching("[a-z]{2}(-[a-z]+)+-[0-9]+", "a region like us-east-1", true));
  public static final ConfigOption<Optional<URI>> S3_ENDPOINT = new ConfigOption<>("NIXEK_LOG_S3_ENDPOINT", "",
      "S3 endpoint override of the s3 log store (S3-compatible stores, tests; addressed path-style); empty: the "
          + "region's endpoint", optionalHttpUrl());

  public static final List<ConfigOption<?>> OPTIONS = List.of(STORE, DIR, S3_BUCKET, S3_PREFIX, S3_REGION, S3_ENDPOINT);

  /**
   * The options in {@code env}, each checked on its own. That {@code s3} has a bucket is checked when the store is
   * opened ({@link #requireComplete}, {@link LogStores#open}): a process fails at start-up either way, while tools
   * that only read the configuration (the chart's tests) can read an incomplete one.
   */
  public static LogStoreOptions fromEnv(Map<String, String> env) {
    return new LogStoreOptions(STORE.read(env), DIR.read(env), S3_BUCKET.read(env), S3_PREFIX.read(env),
        S3_REGION.read(env), S3_ENDPOINT.read(env));
  }

  /** These options, if a store can be opened with them; {@code s3} without a bucket fails naming the option. */
  public LogStoreOptions requireComplete() {
    if (kind == Kind.S3 && bucket.isEmpty()) {
      throw new ConfigException(S3_BUCKET.key() + " is required when " + STORE.key() + "=s3 ("
          + S3_BUCKET.description() + ")");
    }
    return this;
  }

  /** A local store in {@code dir}. */
  public static LogStoreOptions local(Path dir) {
    return new LogStoreOptions(Kind.LOCAL, dir, "", "logs/", "", Optional.empty());
  }

  /** Where the logs are, for a start-up log line (no secrets: credentials come from the SDK's chain). */
  public String describe() {
    return kind == Kind.LOCAL ? "local directory " + dir
        : "s3://" + bucket + "/" + prefix + endpoint.map(e -> " at " + e).orElse("");
  }

  private static Function<String, String> keyPrefix() {
    return s -> {
      String p = s == null ? "" : s;
      if (p.startsWith("/") || p.contains("//") || p.contains("..")) {
        throw new IllegalArgumentException("expected a key prefix like logs/ (no leading '/', no '//' or '..')");
      }
      return p.isEmpty() || p.endsWith("/") ? p : p + "/";
    };
  }
}
