package dev.nixek.ci.report;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code X-Hub-Signature-256}: {@code sha256=} and the lower-case hex HMAC-SHA256 of the raw body under the webhook
 * secret, as GitHub and Gitea send it. Checked over the bytes as received, before anything parses them, and compared in
 * constant time ({@link MessageDigest#isEqual}) so the answer's timing tells nothing about how much of a guess was
 * right.
 */
final class WebhookSignature {
  static final String HEADER = "X-Hub-Signature-256";
  private static final String PREFIX = "sha256=";
  private static final int HEX_CHARS = 64;

  private WebhookSignature() {}

  /** Whether {@code header} has the shape of a signature (the body is not needed to refuse one that has not). */
  static boolean wellFormed(String header) {
    if (header == null || header.length() != PREFIX.length() + HEX_CHARS || !header.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < header.length(); i++) {
      char c = header.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code header} is the signature of {@code body} under {@code secret}. */
  static boolean verify(byte[] secret, byte[] body, String header) {
    if (!wellFormed(header)) {
      return false;
    }
    byte[] given = HexFormat.of().parseHex(header, PREFIX.length(), header.length());
    return MessageDigest.isEqual(hmac(secret, body), given);
  }

  /** The header value for {@code body} under {@code secret} (what a forge sends). */
  static String sign(byte[] secret, byte[] body) {
    return PREFIX + HexFormat.of().formatHex(hmac(secret, body));
  }

  static String sign(String secret, String body) {
    return sign(secret.getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] hmac(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      // an empty key is refused by SecretKeySpec; an empty secret verifies nothing anyway (the caller refuses it)
      mac.init(new SecretKeySpec(secret.length == 0 ? new byte[1] : secret, "HmacSHA256"));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
