package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.dnsLabel;
import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.optionalHttpUrl;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.common.config.ConfigOption;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Nix binary cache per trust domain (docs/images.md#binary-cache). Read on its own ({@link #fromEnv}); its
 * options are listed in {@link OperatorConfig#OPTIONS} for the documentation and the chart.
 *
 * @param enabled whether builds push to and substitute from their trust domain's cache (NIXEK_CACHE_ENABLED, with
 *     {@code auto} resolved)
 * @param bucket the S3 bucket of the caches; empty: NIXEK_IMAGE_BUCKET
 * @param keyPrefix the caches' S3 key prefix: a domain's cache is {@code <prefix>/<cluster id>/<domain>/}
 * @param url the read-only view as pods reach it ({@code <url>/<domain>}); empty: the report API's {@code /v1/cache}
 * @param keySecret the Secret in the operator namespace holding the master key the domains' signing keys derive from
 */
public record CacheOptions(boolean enabled, String bucket, String keyPrefix, Optional<URI> url, String keySecret) {
  public static final ConfigOption<String> ENABLED = new ConfigOption<>("NIXEK_CACHE_ENABLED", "auto",
      "builder and evaluation pods substitute from their trust domain's Nix binary cache, and what a builder pod "
      + "built is published to it, signed by the operator with the domain's key: true, false, or auto (on when "
      + "the caches have a bucket: NIXEK_CACHE_BUCKET or NIXEK_IMAGE_BUCKET)",
      matching("auto|true|false", "auto, true or false", false));
  public static final ConfigOption<String> BUCKET = new ConfigOption<>("NIXEK_CACHE_BUCKET", "",
      "S3 bucket of the binary caches; empty: NIXEK_IMAGE_BUCKET",
      matching("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name", true));
  public static final ConfigOption<String> KEY_PREFIX = new ConfigOption<>("NIXEK_CACHE_KEY_PREFIX", "nixek-cache",
      "S3 key prefix of the binary caches: a trust domain's cache is <prefix>/<cluster id>/<domain>/",
      matching("[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "a key prefix without leading or trailing '/'",
          false));
  public static final ConfigOption<Optional<URI>> URL = new ConfigOption<>("NIXEK_CACHE_URL", "",
      "base URL of the caches' read-only view as pods reach it (a domain's substituter is <url>/<domain>); empty: "
      + "the report API's /v1/cache under NIXEK_EVAL_REPORT_URL", optionalHttpUrl());

  public static final ConfigOption<String> KEY_SECRET = new ConfigOption<>("NIXEK_CACHE_KEY_SECRET",
      "nixek-ci-cache-key",
      "Secret (in the operator namespace) holding the master key each trust domain's cache signing key is derived "
      + "from (docs/images.md#binary-cache); created by the operator at its first use, read by name",
      dnsLabel());

  public static final List<ConfigOption<?>> OPTIONS = List.of(ENABLED, BUCKET, KEY_PREFIX, URL, KEY_SECRET);

  public static CacheOptions fromEnv(Map<String, String> env) {
    String mode = ENABLED.read(env);
    boolean hasBucket = !BUCKET.read(env).isEmpty() || !ImageOptions.BUCKET.read(env).isEmpty();
    // auto: a cache needs a bucket, and an installation with one builds images (the demo's local provider has none)
    boolean enabled = mode.equals("true") || mode.equals("auto") && hasBucket;
    CacheOptions options = new CacheOptions(enabled, BUCKET.read(env), KEY_PREFIX.read(env), URL.read(env),
        KEY_SECRET.read(env));
    if (options.enabled() && !hasBucket) {
      throw new ConfigException(ENABLED.key() + "=true needs a bucket: set " + BUCKET.key() + " or "
          + ImageOptions.BUCKET.key());
    }
    return options;
  }

  /** The bucket in use: this option's, else the images'. */
  public String bucketOr(String imageBucket) {
    return bucket.isEmpty() ? imageBucket : bucket;
  }
}
