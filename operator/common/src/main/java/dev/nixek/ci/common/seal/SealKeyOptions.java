package dev.nixek.ci.common.seal;

import static dev.nixek.ci.common.config.Parsers.dnsLabel;

import dev.nixek.ci.common.config.ConfigOption;
import java.util.List;
import java.util.Map;

/**
 * Where the seal key is: the Secret's name, and its namespace (the operator's). The operator reads the namespace from
 * its own NIXEK_OPERATOR_NAMESPACE; the report API from NIXEK_SEAL_KEY_NAMESPACE (the chart sets both to the release
 * namespace, where both run).
 *
 * @param secret the Secret holding the key (entry {@code key})
 * @param namespace its namespace
 */
public record SealKeyOptions(String secret, String namespace) {
  public static final ConfigOption<String> SECRET = new ConfigOption<>("NIXEK_SEAL_KEY_SECRET",
      SealKeyStore.DEFAULT_SECRET, "Secret (in the operator namespace) holding the key job secrets and other values "
      + "for the report API are sealed with (docs/secrets.md#the-seal-key); created by the operator at first start, "
      + "read by the report API by name", dnsLabel());
  public static final ConfigOption<String> NAMESPACE = new ConfigOption<>("NIXEK_SEAL_KEY_NAMESPACE", "default",
      "report API: the namespace of the seal key Secret, the operator's (the chart sets it from the pod)", dnsLabel());

  /** The report API's options; the operator lists only {@link #SECRET}. */
  public static final List<ConfigOption<?>> OPTIONS = List.of(SECRET, NAMESPACE);

  public static SealKeyOptions fromEnv(Map<String, String> env) {
    return new SealKeyOptions(SECRET.read(env), NAMESPACE.read(env));
  }
}
