package dev.nixek.ci.common.secrets;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.nixek.ci.common.seal.SealContexts;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job's secret values as {@code status.sealedSecrets} holds them (docs/secrets.md#sealing): a JSON map from
 * {@code secret/key} to the base64 value, sealed for the job's namespace, name, uid and launch attempt, so a blob
 * copied to another job, or kept from an earlier attempt, does not open.
 */
public final class SealedJobSecrets {
  private static final TypeReference<TreeMap<String, String>> MAP = new TypeReference<>() {};

  private SealedJobSecrets() {}

  /** The context a job's secrets are sealed for. */
  public static String context(String namespace, String name, String uid, int attempt) {
    return SealContexts.jobSecrets(namespace, name, uid, attempt);
  }

  public static String seal(Sealer sealer, Map<String, byte[]> values, String context) {
    Map<String, String> encoded = new TreeMap<>();
    values.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v)));
    try {
      return sealer.seal(Json.mapper().writeValueAsBytes(encoded), context);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The values; throws {@link Sealer.SealException} when the blob does not open under {@code context}. */
  public static Map<String, byte[]> open(Sealer sealer, String sealed, String context) {
    byte[] json = sealer.open(sealed, context);
    Map<String, String> encoded;
    try {
      encoded = Json.mapper().readValue(json, MAP);
    } catch (IOException e) {
      throw new Sealer.SealException("sealed secrets are not a JSON map");
    }
    Map<String, byte[]> out = new TreeMap<>();
    encoded.forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
    return out;
  }
}
