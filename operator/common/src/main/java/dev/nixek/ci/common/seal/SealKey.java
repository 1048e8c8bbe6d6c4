package dev.nixek.ci.common.seal;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/** The 256-bit AES key the operator seals with and the report API opens with (docs/secrets.md#sealing). */
public final class SealKey {
  /** Size of the key: AES-256. */
  public static final int BYTES = 32;

  private final byte[] key;

  public SealKey(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length != BYTES) {
      throw new IllegalArgumentException("a seal key has exactly " + BYTES + " bytes, this one has " + key.length);
    }
    this.key = key.clone();
  }

  /** A fresh random key, for a new installation or an embedded run. */
  public static SealKey random() {
    byte[] k = new byte[BYTES];
    new SecureRandom().nextBytes(k);
    return new SealKey(k);
  }

  byte[] bytes() {
    return key.clone();
  }

  /** The key's bytes, to store it; callers keep them out of logs. */
  public byte[] encoded() {
    return key.clone();
  }

  @Override
  public String toString() {
    // never the key, so that a logged object cannot leak it
    return "SealKey[redacted]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SealKey other && java.security.MessageDigest.isEqual(key, other.key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }
}
