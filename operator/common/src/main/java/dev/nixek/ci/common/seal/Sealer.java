package dev.nixek.ci.common.seal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals values the report API must serve or check into blobs the operator may write into an object's status
 * (docs/secrets.md#sealing): AES-256-GCM with a random 96-bit nonce, the context string (what the blob is for, e.g.
 * {@code job/<ns>/<name>/<uid>/<attempt>}) as associated data, so that a blob copied to another object or purpose
 * does not open. The text form is {@code v1.} followed by base64url (no padding) of nonce ‖ ciphertext ‖ tag.
 *
 * <p>A random nonce under one key is safe for far more than 2^32 seals (NIST SP 800-38D's bound for random
 * nonces), many orders of magnitude above what an installation seals in its key's lifetime.
 */
public final class Sealer {
  /** Prefix of the current format; a future format gets another so that old blobs stay readable or clearly not. */
  public static final String V1 = "v1.";
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  /** Bytes a sealed value takes beyond its plaintext: nonce and tag. */
  public static final int OVERHEAD_BYTES = NONCE_BYTES + TAG_BITS / 8;

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  public Sealer(SealKey key) {
    Objects.requireNonNull(key, "key");
    this.key = new SecretKeySpec(key.bytes(), "AES");
  }

  /**
   * A key derived from the seal key for another use ({@code label} names it: HMAC-SHA256 of the label under the seal
   * key), so that the operator and the report API share it without a second Secret, and a MAC under it is never a
   * seal or a MAC of another use.
   */
  public byte[] derive(String label) {
    requireContext(label);
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
      return mac.doFinal(label.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The sealed text form of {@code plaintext}, bound to {@code context}. */
  public String seal(byte[] plaintext, String context) {
    Objects.requireNonNull(plaintext, "plaintext");
    requireContext(context);
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      byte[] ct = c.doFinal(plaintext);
      return V1 + B64.encodeToString(ByteBuffer.allocate(nonce.length + ct.length).put(nonce).put(ct).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  /** {@link #seal(byte[], String)} of a string's UTF-8 bytes. */
  public String seal(String plaintext, String context) {
    return seal(plaintext.getBytes(StandardCharsets.UTF_8), context);
  }

  /**
   * The plaintext of {@code sealed}.
   *
   * @throws SealException when the blob is malformed, of an unknown version, sealed under another key or another
   *     context, or altered; the message never contains the blob's content
   */
  public byte[] open(String sealed, String context) {
    requireContext(context);
    if (sealed == null || !sealed.startsWith(V1)) {
      throw new SealException("not a sealed value of a known version");
    }
    byte[] raw;
    try {
      raw = B64D.decode(sealed.substring(V1.length()));
    } catch (IllegalArgumentException e) {
      throw new SealException("sealed value is not base64url");
    }
    if (raw.length < OVERHEAD_BYTES) {
      throw new SealException("sealed value is too short");
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, NONCE_BYTES));
      c.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      return c.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new SealException("sealed value does not open: another key or context, or altered");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  /** {@link #open(String, String)} as a UTF-8 string. */
  public String openString(String sealed, String context) {
    return new String(open(sealed, context), StandardCharsets.UTF_8);
  }

  /** Length of the text form of a sealed value of {@code plaintextBytes} bytes, to bound what status holds. */
  public static int sealedLength(int plaintextBytes) {
    int raw = plaintextBytes + OVERHEAD_BYTES;
    return V1.length() + (raw * 4 + 2) / 3;
  }

  private static void requireContext(String context) {
    if (context == null || context.isEmpty()) {
      throw new IllegalArgumentException("a seal context is required");
    }
  }

  /** A sealed value that does not open; never carries the value. */
  public static final class SealException extends RuntimeException {
    public SealException(String message) {
      super(message);
    }
  }
}
