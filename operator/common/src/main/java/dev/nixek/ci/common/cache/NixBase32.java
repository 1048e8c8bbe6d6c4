package dev.nixek.ci.common.cache;

/**
 * Nix's base-32 (its own alphabet and bit order), the form narinfo files give hashes in ({@code sha256:<52 chars>}):
 * the publisher compares a NAR's SHA-256 with the narinfo's {@code FileHash}.
 */
public final class NixBase32 {
  private static final String CHARS = "0123456789abcdfghijklmnpqrsvwxyz";

  private NixBase32() {}

  public static String encode(byte[] hash) {
    int len = (hash.length * 8 - 1) / 5 + 1;
    StringBuilder s = new StringBuilder(len);
    for (int n = len - 1; n >= 0; n--) {
      int b = n * 5;
      int i = b / 8;
      int j = b % 8;
      int c = (hash[i] & 0xff) >> j;
      if (i < hash.length - 1) {
        c |= (hash[i + 1] & 0xff) << (8 - j);
      }
      s.append(CHARS.charAt(c & 0x1f));
    }
    return s.toString();
  }
}
