package dev.nixek.ci.common.token;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Per-job report tokens (DESIGN §5, §7).
 *
 * <p>A token is {@code nxkjt_} followed by 256 bits, base64url. It is derived as HMAC-SHA256(operator key, job UID,
 * attempt) rather than drawn fresh, so that a launch replayed after an operator crash carries byte-identical
 * user-data (an EC2 ClientToken replay with other parameters fails) and the already-running agent's token stays
 * valid. The output of HMAC under a 256-bit random key is indistinguishable from 256 random bits to anyone without
 * the key. Only the token's SHA-256 is ever stored.
 */
public final class JobTokens {
  /** Recognisable prefix, so that secret scanners and humans can tell what a leaked string is. */
  public static final String PREFIX = "nxkjt_";
  /** Length of the lookup id: 32 hex characters (128 bits) fits a label value. */
  public static final int TOKEN_ID_HEX_LENGTH = 32;
  /** Size of the operator's HMAC key. */
  public static final int KEY_BYTES = 32;

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] key;

  public JobTokens(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length < KEY_BYTES) {
      throw new IllegalArgumentException("the token key must have at least " + KEY_BYTES + " bytes, has " + key.length);
    }
    this.key = key.clone();
  }

  /** A new random HMAC key for an operator installation. */
  public static byte[] newKey() {
    byte[] k = new byte[KEY_BYTES];
    new SecureRandom().nextBytes(k);
    return k;
  }

  /** The token of attempt {@code attempt} of the job with UID {@code jobUid}. */
  public String tokenFor(String jobUid, int attempt) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] out = mac.doFinal(("nixek-ci job token v1\0" + jobUid + "\0" + attempt).getBytes(StandardCharsets.UTF_8));
      return PREFIX + B64.encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  /** SHA-256 of the token, hex: what the token Secret stores. */
  public static String sha256Hex(String token) {
    return HEX.formatHex(sha256(token.getBytes(StandardCharsets.UTF_8)));
  }

  /** The lookup id of a token with this SHA-256 (hex). Knowing it does not help finding the token. */
  public static String tokenId(String sha256Hex) {
    return sha256Hex.substring(0, TOKEN_ID_HEX_LENGTH);
  }

  /** Whether {@code presented} hashes to {@code storedSha256Hex}, compared in constant time. */
  public static boolean matches(String presented, String storedSha256Hex) {
    if (presented == null || storedSha256Hex == null) {
      return false;
    }
    byte[] stored;
    try {
      stored = HEX.parseHex(storedSha256Hex);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(sha256(presented.getBytes(StandardCharsets.UTF_8)), stored);
  }

  /** Whether the string has the shape of a token (prefix and length); says nothing about validity. */
  public static boolean looksLikeToken(String s) {
    return s != null && s.startsWith(PREFIX) && s.length() == PREFIX.length() + 43
        && s.substring(PREFIX.length()).chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_');
  }

  private static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }
}
