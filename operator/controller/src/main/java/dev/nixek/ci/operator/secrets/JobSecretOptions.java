package dev.nixek.ci.operator.secrets;

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
  public static final ConfigOption<Integer> MAX_BYTES = new ConfigOption<>("NIXEK_JOB_SECRETS_MAX_BYTES", "65536",
      "bytes of Secret values one job may use, all values together, 1..262144; a job over it ends SecretNotAllowed. "
      + "Sealed, they are about 4/3 of this in the job's status, so the default keeps a job far from etcd's object "
      + "limit", intRange(1, 256 * 1024));

  public static final List<ConfigOption<?>> OPTIONS = List.of(SealKeyOptions.SECRET, MAX_BYTES);

  public static JobSecretOptions fromEnv(Map<String, String> env) {
    return new JobSecretOptions(SealKeyOptions.SECRET.read(env), MAX_BYTES.read(env));
  }
}
