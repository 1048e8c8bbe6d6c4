package dev.nixek.ci.protocol;

import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code GET /v1/jobs/{namespace}/{name}/secrets} answers: every secret value the job uses, by {@code secret/key},
 * base64 (a Secret's value is bytes). {@link #toString()} never shows a value.
 */
public record JobSecrets(Map<String, String> values) {
  public JobSecrets {
    values = values == null ? Map.of() : Map.copyOf(values);
  }

  /** The answer for these values. */
  public static JobSecrets of(Map<String, byte[]> values) {
    Map<String, String> encoded = new TreeMap<>();
    values.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v)));
    return new JobSecrets(encoded);
  }

  /** The values, decoded. */
  public Map<String, byte[]> decoded() {
    Map<String, byte[]> out = new TreeMap<>();
    values.forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
    return out;
  }

  @Override
  public String toString() {
    return "JobSecrets[" + values.size() + " value(s), redacted]";
  }
}
