package dev.nixek.ci.report;

import static dev.nixek.ci.common.config.Parsers.intRange;
import static dev.nixek.ci.common.config.Parsers.seconds;

import dev.nixek.ci.common.config.ConfigOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The options of the webhook endpoint ({@code POST /v1/webhooks/{namespace}/{repository}}, docs/repositories.md
 * #webhooks), apart from {@link ReportApiConfig} so that its many callers need not change. The seal key webhook
 * secrets are opened with is {@link ReportApiConfig#seal()}'s, one holder shared with job secrets ({@link SealKeys}).
 *
 * @param bodyLimitBytes largest delivery accepted (413 above, before any byte is buffered)
 * @param deliveryTtl how long a delivery id is remembered for deduplication
 * @param deliveryCacheEntries delivery ids remembered at most (the oldest go first)
 */
public record WebhookConfig(int bodyLimitBytes, Duration deliveryTtl, int deliveryCacheEntries) {

  public static final ConfigOption<Integer> BODY_LIMIT_BYTES = new ConfigOption<>("NIXEK_WEBHOOK_BODY_LIMIT_BYTES",
      "1048576", "Largest webhook delivery accepted, 1024..26214400 bytes (GitHub caps payloads at 25 MiB); a larger "
      + "one gets 413 without being buffered. A push of many commits is the largest ordinary delivery.",
      intRange(1024, 25 * 1024 * 1024));
  public static final ConfigOption<Duration> DELIVERY_TTL_SECONDS = new ConfigOption<>(
      "NIXEK_WEBHOOK_DELIVERY_TTL_SECONDS", "3600", "How long a webhook delivery id is remembered, 1..604800 "
      + "seconds: the same delivery again within it (a forge's redelivery) is answered 'duplicate' and nudges the "
      + "repository no second time. Per replica; a duplicate that reaches another replica costs one more nudge, "
      + "which is harmless.", seconds(1, 604_800));
  public static final ConfigOption<Integer> DELIVERY_CACHE_ENTRIES = new ConfigOption<>(
      "NIXEK_WEBHOOK_DELIVERY_CACHE_ENTRIES", "20000", "Webhook delivery ids remembered at most, 1..1000000 (about "
      + "200 bytes each); past it the oldest are forgotten first.", intRange(1, 1_000_000));
  /** The webhook options, for {@code --help} and the chart ({@code config.reportApi.webhook*}). */
  public static final List<ConfigOption<?>> OPTIONS = List.of(BODY_LIMIT_BYTES, DELIVERY_TTL_SECONDS,
      DELIVERY_CACHE_ENTRIES);

  /** The configuration from these environment variables; unset or blank ones take their default. */
  public static WebhookConfig fromEnv(Map<String, String> env) {
    return new WebhookConfig(BODY_LIMIT_BYTES.read(env), DELIVERY_TTL_SECONDS.read(env),
        DELIVERY_CACHE_ENTRIES.read(env));
  }

  /** Every default. */
  public static WebhookConfig defaults() {
    return fromEnv(Map.of());
  }
}
