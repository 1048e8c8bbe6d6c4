package dev.nixek.ci.common.logs;

import static dev.nixek.ci.common.config.Parsers.intRange;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Where step artifacts are kept and how much a job may keep (docs/artifacts.md). The store itself is the log store's
 * (NIXEK_LOG_STORE, the bucket, region and endpoint, or the local directory): artifacts go under their own key prefix,
 * or a directory {@value #LOCAL_DIR_NAME} inside the local log directory (which no namespace can be called).
 *
 * @param s3Prefix key prefix of artifact objects in the log bucket, "" or ending in '/'
 * @param fileLimitBytes the largest file the report API hands out an upload URL for
 * @param jobLimitBytes the bytes all artifact files of one job may take
 * @param jobMaxFiles the files one job may store
 * @param urlTtl how long an upload URL works
 * @param statusMax artifact files listed in a job's status (the rest are counted)
 */
public record ArtifactOptions(String s3Prefix, long fileLimitBytes, long jobLimitBytes, int jobMaxFiles,
    Duration urlTtl, int statusMax) {
  /** The local store's artifact directory inside NIXEK_LOG_DIR: '_' cannot start a namespace. */
  public static final String LOCAL_DIR_NAME = "_artifacts";
  /** S3's largest single PUT (and CopyObject): 5 GiB. */
  public static final long MAX_FILE_BYTES = 5L << 30;

  public static final ConfigOption<String> S3_PREFIX = new ConfigOption<>("NIXEK_ARTIFACT_S3_PREFIX", "artifacts/",
      "key prefix of artifact objects in the s3 log store's bucket ('/' is appended when missing)", keyPrefix());
  public static final ConfigOption<Long> FILE_LIMIT_BYTES = new ConfigOption<>("NIXEK_ARTIFACT_FILE_LIMIT_BYTES",
      "1073741824", "largest artifact file, 1..5368709120 bytes (default 1 GiB; S3's single PUT takes 5 GiB); a "
      + "larger file is refused before upload and listed with the error", longRange(1, MAX_FILE_BYTES));
  public static final ConfigOption<Long> JOB_LIMIT_BYTES = new ConfigOption<>("NIXEK_ARTIFACT_JOB_LIMIT_BYTES",
      "5368709120", "bytes all artifact files of one job may take, 1..1099511627776 (default 5 GiB); a file that "
      + "would pass it is refused", longRange(1, 1L << 40));
  public static final ConfigOption<Integer> JOB_MAX_FILES = new ConfigOption<>("NIXEK_ARTIFACT_JOB_MAX_FILES", "1000",
      "artifact files one job may store, 1..100000", intRange(1, 100_000));
  public static final ConfigOption<Integer> URL_TTL_SECONDS = new ConfigOption<>("NIXEK_ARTIFACT_URL_TTL_SECONDS",
      "900", "seconds an upload URL works, 1..43200 (at least the time one file takes to upload)",
      intRange(1, 43_200));
  public static final ConfigOption<Integer> STATUS_MAX = new ConfigOption<>("NIXEK_ARTIFACT_STATUS_MAX", "50",
      "artifact files listed in a job's status (all steps' status.steps[].artifacts together), 0..200; the "
      + "rest are counted in their step's artifactsNotListed (kubectl nixek artifacts lists all from the store)",
      intRange(0, 200));

  /** Every option, for the report API's configuration. */
  public static final List<ConfigOption<?>> OPTIONS = List.of(S3_PREFIX, FILE_LIMIT_BYTES, JOB_LIMIT_BYTES,
      JOB_MAX_FILES, URL_TTL_SECONDS, STATUS_MAX);

  public static ArtifactOptions fromEnv(Map<String, String> env) {
    return new ArtifactOptions(S3_PREFIX.read(env), FILE_LIMIT_BYTES.read(env), JOB_LIMIT_BYTES.read(env),
        JOB_MAX_FILES.read(env), Duration.ofSeconds(URL_TTL_SECONDS.read(env)), STATUS_MAX.read(env));
  }

  /** The defaults. */
  public static ArtifactOptions defaults() {
    return fromEnv(Map.of());
  }

  private static Function<String, Long> longRange(long min, long max) {
    return s -> {
      long v;
      try {
        v = Long.parseLong(s.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected an integer in " + min + ".." + max);
      }
      if (v < min || v > max) {
        throw new IllegalArgumentException("expected an integer in " + min + ".." + max + ", got " + v);
      }
      return v;
    };
  }

  private static Function<String, String> keyPrefix() {
    return s -> {
      String p = s == null ? "" : s;
      if (p.startsWith("/") || p.contains("//") || p.contains("..")) {
        throw new IllegalArgumentException("expected a key prefix like artifacts/ (no leading '/', no '//' or '..')");
      }
      return p.isEmpty() || p.endsWith("/") ? p : p + "/";
    };
  }
}
