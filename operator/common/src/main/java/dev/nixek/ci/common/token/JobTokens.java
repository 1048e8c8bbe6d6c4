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
 * Per-job report tokens (docs/architecture.md#token-protocol, docs/security.md#tokens), of two purposes that can never stand in for each other.
 *
 * <p>A step token is {@code nxkjt_} followed by 256 bits, base64url. It is derived as HMAC-SHA256(operator key, job
 * UID, attempt) rather than drawn fresh, so that a launch replayed after an operator crash carries byte-identical
 * user-data (an EC2 ClientToken replay with other parameters fails) and the already-running agent's token stays
 * valid. The output of HMAC under a 256-bit random key is indistinguishable from 256 random bits to anyone without
 * the key. Only the token's SHA-256 is ever stored.
 *
 * <p>An evaluation token ({@code nxkev_}, {@link Purpose#EVALUATION}) lets a job's evaluation pod post that job's
 * evaluation result, once. It is derived under another label from the job UID alone (one evaluation per job), so
 * the two purposes never give the same token, and the report API tells them apart by prefix and by the purpose
 * label of the token's record.
 */
public final class JobTokens {
  /** What a token may be used for; each purpose has its own prefix, derivation label and record label value. */
  public enum Purpose {
    /** The agent's step reports ({@code /steps/...}). */
    STEPS("nxkjt_", "nixek-ci job token v1", "steps"),
    /** The evaluation pod's result ({@code /evaluation}). */
    EVALUATION("nxkev_", "nixek-ci evaluation token v1", "evaluation");

    private final String prefix;
    private final String derivation;
    private final String label;

    Purpose(String prefix, String derivation, String label) {
      this.prefix = prefix;
      this.derivation = derivation;
      this.label = label;
    }

    public String prefix() {
      return prefix;
    }

    /** The value of the {@code ci.nixek.dev/token-purpose} label on this purpose's token records. */
    public String label() {
      return label;
    }

    /** The purpose a record's label names; a record without the label predates evaluation tokens: steps. */
    public static Purpose ofLabel(String label) {
      if (label == null || label.equals(STEPS.label)) {
        return STEPS;
      }
      return label.equals(EVALUATION.label) ? EVALUATION : null;
    }
  }

  /** Recognisable prefix of step tokens, so that secret scanners and humans can tell what a leaked string is. */
  public static final String PREFIX = Purpose.STEPS.prefix();
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
    return derive(Purpose.STEPS, jobUid + "\0" + attempt);
  }

  /** The evaluation token of the job with UID {@code jobUid}: one per job, as a job is evaluated once. */
  public String evaluationTokenFor(String jobUid) {
    return derive(Purpose.EVALUATION, jobUid);
  }

  private String derive(Purpose purpose, String subject) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] out = mac.doFinal((purpose.derivation + "\0" + subject).getBytes(StandardCharsets.UTF_8));
      return purpose.prefix + B64.encodeToString(out);
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

  /** Whether the string has the shape of a step token (prefix and length); says nothing about validity. */
  public static boolean looksLikeToken(String s) {
    return looksLikeToken(s, Purpose.STEPS);
  }

  /** Whether the string has the shape of a token of {@code purpose}; says nothing about validity. */
  public static boolean looksLikeToken(String s, Purpose purpose) {
    String prefix = purpose.prefix;
    return s != null && s.startsWith(prefix) && s.length() == prefix.length() + 43
        && s.substring(prefix.length()).chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_');
  }

  /** Whether the string has the shape of a token of any purpose (to keep it out of logs). */
  public static boolean looksLikeAnyToken(String s) {
    for (Purpose p : Purpose.values()) {
      if (looksLikeToken(s, p)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the string contains something that starts like a token of any purpose. */
  public static boolean mentionsToken(String s) {
    for (Purpose p : Purpose.values()) {
      if (s != null && s.contains(p.prefix)) {
        return true;
      }
    }
    return false;
  }

  private static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is unavailable", e);
    }
  }
}
