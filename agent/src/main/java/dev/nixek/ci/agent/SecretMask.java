package dev.nixek.ci.agent;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Replaces secrets in a stream of output with {@value #MASK} before it reaches the spool (and so the report API and
 * the logs). Streaming: a secret split across two reads is still found, because the last {@code longest - 1} bytes
 * of a read are held back until the next one (or {@link #flush()}).
 */
final class SecretMask {
  static final String MASK = "***";
  private static final byte[] MASK_BYTES = MASK.getBytes(StandardCharsets.UTF_8);

  private final List<byte[]> secrets;
  private final int longest;
  private byte[] carry = new byte[0];

  SecretMask(List<String> secrets) {
    List<byte[]> s = new ArrayList<>();
    for (String secret : secrets) {
      if (secret != null && !secret.isEmpty()) {
        s.add(secret.getBytes(StandardCharsets.UTF_8));
      }
    }
    // longest first, so that a secret containing another is masked whole
    s.sort((a, b) -> b.length - a.length);
    this.secrets = s;
    this.longest = s.isEmpty() ? 0 : s.get(0).length;
  }

  /** What of {@code buf[off, off+len)} (after what was held back) can go out now. */
  byte[] filter(byte[] buf, int off, int len) {
    byte[] raw = Arrays.copyOf(carry, carry.length + len);
    System.arraycopy(buf, off, raw, carry.length, len);
    return scan(raw, Math.max(0, raw.length - Math.max(0, longest - 1)), false);
  }

  /** The end of the stream: whatever was held back, masked. */
  byte[] flush() {
    return scan(carry, carry.length, true);
  }

  private byte[] scan(byte[] raw, int cut, boolean end) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
    int i = 0;
    outer:
    while (i < raw.length) {
      if (!end && cutShort(raw, i)) {
        break; // a longer secret may start here: wait for the rest
      }
      for (byte[] secret : secrets) {
        if (startsWith(raw, i, secret)) {
          out.write(MASK_BYTES, 0, MASK_BYTES.length);
          i += secret.length;
          continue outer;
        }
      }
      if (i >= cut) {
        break;
      }
      out.write(raw[i]);
      i++;
    }
    carry = Arrays.copyOfRange(raw, i, raw.length);
    return out.toByteArray();
  }

  /** Whether what is left from {@code at} is a proper prefix of some secret. */
  private boolean cutShort(byte[] raw, int at) {
    int left = raw.length - at;
    for (byte[] secret : secrets) {
      if (secret.length > left && Arrays.equals(raw, at, raw.length, secret, 0, left)) {
        return true;
      }
    }
    return false;
  }

  private static boolean startsWith(byte[] raw, int at, byte[] secret) {
    if (raw.length - at < secret.length) {
      return false;
    }
    for (int k = 0; k < secret.length; k++) {
      if (raw[at + k] != secret[k]) {
        return false;
      }
    }
    return true;
  }
}
