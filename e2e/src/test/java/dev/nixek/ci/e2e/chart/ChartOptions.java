package dev.nixek.ci.e2e.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.report.ReportApiConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The link between the chart's {@code config} block and the programs' options, which are defined once, in the code
 * ({@link OperatorConfig#OPTIONS}, {@link ReportApiConfig#OPTIONS}): a key {@code fooBar} of {@code config.operator}
 * is the operator's {@code NIXEK_FOO_BAR}, one of {@code config.reportApi} the report API's, and
 * {@code config.watchNamespaces} is {@code NIXEK_WATCH_NAMESPACES} of both. The chart's template does the same
 * conversion ({@code nixek-ci.configEnv}).
 */
public final class ChartOptions {
  /** Operator options the chart sets itself: from the pod, or from values outside the config block. */
  public static final Map<String, String> CHART_MANAGED = Map.of(
      "NIXEK_OPERATOR_NAMESPACE", "the pod's namespace (downward API)",
      "NIXEK_LEADER_IDENTITY", "the pod's name (downward API)",
      "NIXEK_BUILDER_SERVICE_ACCOUNT", "`builder.serviceAccount.name` (default `<fullname>-builder`), the "
      + "ServiceAccount the chart creates in the watched namespaces",
      "NIXEK_BUILDER_KVM_RESOURCE", "`builder.kvm.resource`",
      "NIXEK_BUILDER_KVM_FALLBACK", "`builder.kvm.fallback`",
      "NIXEK_BUILDER_NODE_SELECTOR", "`builder.nodeSelector` (a map; rendered key=value,...)",
      "NIXEK_BUILDER_TOLERATIONS", "`builder.tolerations` (a list of tolerations; rendered as JSON)",
      "NIXEK_LOG_RETENTION_DAYS", "`logs.retentionDays`");

  /** Report API options the chart sets itself: the seal key's name (the operator's value) and namespace (its pod's). */
  public static final Map<String, String> REPORT_API_CHART_MANAGED = Map.of(
      "NIXEK_SEAL_KEY_SECRET", "`config.operator.sealKeySecret` (the operator's seal key Secret)",
      "NIXEK_SEAL_KEY_NAMESPACE", "the pod's namespace (downward API), where the operator keeps the seal key",
      "NIXEK_CACHE_BUCKET", "`config.operator.cacheBucket`, else `imageBucket` (none when `cacheEnabled` is false)",
      "NIXEK_CACHE_KEY_PREFIX", "`config.operator.cacheKeyPrefix`",
      "NIXEK_CLUSTER_ID", "`config.operator.clusterId`",
      "NIXEK_AWS_REGION", "`config.operator.awsRegion`",
      "NIXEK_S3_ENDPOINT", "`config.operator.s3Endpoint`");

  /**
   * Options of the log store and the report API's log limits, which the chart renders from its {@code logs} block
   * (docs/logs.md), not from {@code config}: the store's (both containers), the limits and the status interval (the
   * report API).
   */
  public static final Map<String, String> LOGS_MANAGED = Map.ofEntries(
      Map.entry("NIXEK_LOG_STORE", "`logs.store`"),
      Map.entry("NIXEK_LOG_DIR", "`logs.local.dir` (store local)"),
      Map.entry("NIXEK_LOG_S3_BUCKET", "`logs.s3.bucket`, else `config.operator.imageBucket` (store s3)"),
      Map.entry("NIXEK_LOG_S3_PREFIX", "`logs.s3.prefix` (store s3)"),
      Map.entry("NIXEK_LOG_S3_REGION", "`logs.s3.region`, else `config.operator.awsRegion` (store s3)"),
      Map.entry("NIXEK_LOG_S3_ENDPOINT", "`logs.s3.endpoint`, else `config.operator.s3Endpoint` (store s3)"),
      Map.entry("NIXEK_LOG_STEP_LIMIT_BYTES", "`logs.stepLimitBytes` (report API)"),
      Map.entry("NIXEK_LOG_JOB_LIMIT_BYTES", "`logs.jobLimitBytes` (report API)"),
      Map.entry("NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "`logs.statusIntervalMillis` (report API)"),
      Map.entry("NIXEK_ARTIFACT_S3_PREFIX", "`logs.artifacts.s3Prefix`, else `artifacts/<clusterId>/` (store s3)"),
      Map.entry("NIXEK_ARTIFACT_FILE_LIMIT_BYTES", "`logs.artifacts.fileLimitBytes` (report API)"),
      Map.entry("NIXEK_ARTIFACT_JOB_LIMIT_BYTES", "`logs.artifacts.jobLimitBytes` (report API)"),
      Map.entry("NIXEK_ARTIFACT_JOB_MAX_FILES", "`logs.artifacts.jobMaxFiles` (report API)"),
      Map.entry("NIXEK_ARTIFACT_URL_TTL_SECONDS", "`logs.artifacts.urlTtlSeconds` (report API)"),
      Map.entry("NIXEK_ARTIFACT_STATUS_MAX", "`logs.artifacts.statusMax` (report API)"));

  /** Keys whose empty value the chart replaces with one only it knows. */
  public static final Map<String, String> CHART_COMPUTED = Map.of(
      "config.watchNamespaces", "the release namespace (every namespace only with `config.watchAllNamespaces`)",
      "config.operator.reportUrl", "the report API Service's in-cluster URL",
      "config.operator.evalReportUrl", "the report API Service's in-cluster URL",
      "config.operator.builderImage", "this chart's image");

  /** One option as the chart and the code see it. */
  public record Option(String component, String valuesKey, String env, JsonNode chartDefault,
      Optional<String> programDefault, String description, Optional<Consumer<String>> parser) {}

  private ChartOptions() {}

  /** {@code fooBar} → {@code NIXEK_FOO_BAR}, as the chart's template converts it. */
  public static String envName(String valuesKey) {
    return "NIXEK_" + valuesKey.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  /** How the chart's template writes a value into the environment: lists joined with commas. */
  public static String envValue(JsonNode value) {
    if (value.isArray()) {
      List<String> items = new ArrayList<>();
      value.forEach(v -> items.add(v.asText()));
      return String.join(",", items);
    }
    return value.asText();
  }

  /** Whether the template leaves the value out (the program's default applies). */
  public static boolean isUnset(JsonNode value) {
    return value == null || value.isNull() || value.isTextual() && value.asText().isEmpty()
        || value.isArray() && value.isEmpty();
  }

  public static JsonNode values() {
    try {
      return new ObjectMapper(new YAMLFactory()).readTree(Helm.CHART.resolve("values.yaml").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode schema() {
    try {
      return new ObjectMapper().readTree(Helm.CHART.resolve("values.schema.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The operator's options by environment variable. */
  public static Map<String, ConfigOption<?>> operatorOptions() {
    Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
    OperatorConfig.OPTIONS.forEach(o -> m.put(o.key(), o));
    return m;
  }

  /** The report API's options by environment variable. */
  public static Map<String, ConfigOption<?>> reportApiOptions() {
    Map<String, ConfigOption<?>> m = new LinkedHashMap<>();
    ReportApiConfig.OPTIONS.forEach(o -> m.put(o.key(), o));
    return m;
  }

  private static Consumer<String> check(ConfigOption<?> o) {
    return v -> o.read(Map.of(o.key(), v));
  }

  /** Every key of the chart's config block with what the code says about it, in the order of values.yaml. */
  public static List<Option> all() {
    JsonNode config = values().get("config");
    List<Option> out = new ArrayList<>();
    JsonNode watch = config.get("watchNamespaces");
    ConfigOption<?> watchOption = operatorOptions().get("NIXEK_WATCH_NAMESPACES");
    out.add(new Option("both", "config.watchNamespaces", "NIXEK_WATCH_NAMESPACES", watch,
        Optional.of(watchOption.defaultValue()), watchOption.description(), Optional.of(check(watchOption))));
    for (Iterator<String> it = config.get("operator").fieldNames(); it.hasNext(); ) {
      String key = it.next();
      String env = envName(key);
      ConfigOption<?> o = operatorOptions().get(env);
      out.add(o == null
          ? new Option("operator", "config.operator." + key, env, config.get("operator").get(key), Optional.empty(),
              "(not read by this build)", Optional.empty())
          : new Option("operator", "config.operator." + key, env, config.get("operator").get(key),
              Optional.ofNullable(o.defaultValue()), o.description(), Optional.of(check(o))));
    }
    for (Iterator<String> it = config.get("reportApi").fieldNames(); it.hasNext(); ) {
      String key = it.next();
      String env = envName(key);
      ConfigOption<?> o = reportApiOptions().get(env);
      out.add(new Option("report API", "config.reportApi." + key, env, config.get("reportApi").get(key),
          o == null ? Optional.empty() : Optional.of(o.defaultValue()),
          o == null ? "(no such option)" : o.description(),
          o == null ? Optional.empty() : Optional.of(v -> ReportApiConfig.fromEnv(Map.of(env, v)))));
    }
    return out;
  }
}
