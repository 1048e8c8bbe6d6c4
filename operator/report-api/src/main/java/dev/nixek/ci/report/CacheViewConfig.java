package dev.nixek.ci.report;

import static dev.nixek.ci.common.config.Parsers.matching;
import static dev.nixek.ci.common.config.Parsers.optionalHttpUrl;

import dev.nixek.ci.common.cache.CacheLayout;
import dev.nixek.ci.common.cache.CacheReadView;
import dev.nixek.ci.common.config.ConfigOption;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Where the trust domains' binary caches are, for the report API's read-only view ({@code GET /v1/cache/...},
 * docs/images.md#binary-cache): the operator's options of the same names (the chart passes the operator's values).
 * No bucket: the view answers 404 to everything.
 *
 * @param bucket the caches' bucket; empty: no cache here
 * @param keyPrefix the caches' key prefix
 * @param clusterId the installation's cluster id, a path element of every cache
 * @param region the bucket's region; empty: the SDK's chain (us-east-1 with an endpoint)
 * @param endpoint an S3 endpoint override (S3-compatible stores, tests; path-style)
 */
public record CacheViewConfig(String bucket, String keyPrefix, String clusterId, String region,
    Optional<URI> endpoint) {
  public static final ConfigOption<String> BUCKET = new ConfigOption<>("NIXEK_CACHE_BUCKET", "",
      "S3 bucket of the binary caches the report API serves at /v1/cache (the operator's bucket of the caches); empty: "
      + "none served", matching("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name", true));
  public static final ConfigOption<String> KEY_PREFIX = new ConfigOption<>("NIXEK_CACHE_KEY_PREFIX", "nixek-cache",
      "S3 key prefix of the binary caches (the operator's)",
      matching("[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*", "a key prefix without leading or trailing '/'",
          false));
  public static final ConfigOption<String> CLUSTER_ID = new ConfigOption<>("NIXEK_CLUSTER_ID", "default",
      "the operator's cluster id: a path element of every binary cache", matching("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?",
          "a DNS label", false));
  public static final ConfigOption<String> REGION = new ConfigOption<>("NIXEK_AWS_REGION", "",
      "region of the binary caches' bucket (empty: the SDK's default region chain; us-east-1 with an endpoint)",
      matching("[a-z]{2}(-[a-z]+)+-[0-9]+", "a region like us-east-1", true));
  public static final ConfigOption<Optional<URI>> ENDPOINT = new ConfigOption<>("NIXEK_S3_ENDPOINT", "",
      "S3 endpoint override of the binary caches' bucket (S3-compatible stores, tests; path-style)",
      optionalHttpUrl());

  public static final List<ConfigOption<?>> OPTIONS = List.of(BUCKET, KEY_PREFIX, CLUSTER_ID, REGION, ENDPOINT);

  public static CacheViewConfig fromEnv(Map<String, String> env) {
    return new CacheViewConfig(BUCKET.read(env), KEY_PREFIX.read(env), CLUSTER_ID.read(env), REGION.read(env),
        ENDPOINT.read(env));
  }

  /** No cache: every {@code /v1/cache} request gets 404. */
  public static CacheViewConfig none() {
    return new CacheViewConfig("", "nixek-cache", "default", "", Optional.empty());
  }

  /** The view over the configured bucket with the SDK's default credentials; empty without a bucket. */
  public Optional<CacheReadView> open() {
    if (bucket.isEmpty()) {
      return Optional.empty();
    }
    var b = S3Client.builder();
    if (!region.isEmpty()) {
      b.region(Region.of(region));
    } else if (endpoint.isPresent()) {
      b.region(Region.US_EAST_1); // S3-compatible stores ignore it, but SigV4 needs one
    }
    endpoint.ifPresent(e -> b.endpointOverride(e).forcePathStyle(true));
    return Optional.of(new CacheReadView(b.build(), bucket, new CacheLayout(keyPrefix, clusterId)));
  }
}
