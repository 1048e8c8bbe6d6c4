package dev.nixek.ci.operator.config;

import static dev.nixek.ci.common.config.Parsers.intRange;

import dev.nixek.ci.common.config.ConfigOption;
import dev.nixek.ci.common.seal.SealKeyOptions;
import java.util.List;
import java.util.Map;

/**
 * Job secrets (docs/secrets.md): where the seal key is, and how much a job may seal into its status.
 *
 * @param sealKeySecret the seal key Secret, in the operator namespace
 * @param maxBytes the most bytes of secret values one job may use, all values together
 */
public record JobSecretOptions(String sealKeySecret, int maxBytes) {
  public static final ConfigOption<Integer> MAX_BYTES = new ConfigOption<>("NIXEK_JOB_SECRETS_MAX_BYTES", "16384",
      "bytes of Secret values one job may use, all values together, 1..16384; a job over it ends SecretNotAllowed. "
      + "Sealed (base64 in JSON, then base64url) they take about 1.8 times this in the job's status, which has room "
      + "for 30 KiB of them (docs/architecture.md#status-budget): a job whose sealed secrets are longer (many short "
      + "values under long names) ends SecretNotAllowed too (docs/secrets.md)", intRange(1, 16 * 1024));

  public static final List<ConfigOption<?>> OPTIONS = List.of(SealKeyOptions.SECRET, MAX_BYTES);

  public static JobSecretOptions fromEnv(Map<String, String> env) {
    return new JobSecretOptions(SealKeyOptions.SECRET.read(env), MAX_BYTES.read(env));
  }
}
