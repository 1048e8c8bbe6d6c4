package dev.nixek.ci.common.text;

/**
 * What a string costs inside a stored Kubernetes object: the bytes of its JSON string form as the API server writes
 * it (Go's encoder: {@code "} and {@code \} and the control characters escaped, {@code <}, {@code >}, {@code &},
 * U+2028 and U+2029 as six-byte {@code \}{@code uXXXX}), quotes excluded. Budgets of what the report API stores are
 * counted in these bytes, so that no content can make an object larger than its budget says.
 */
public final class JsonSize {
  private JsonSize() {}

  /** The JSON-encoded bytes of {@code s} (0 for null). */
  public static long of(String s) {
    if (s == null) {
      return 0;
    }
    long n = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      n += of(cp);
      i += Character.charCount(cp);
    }
    return n;
  }

  /** The JSON-encoded bytes of one code point. */
  public static int of(int cp) {
    if (cp == '"' || cp == '\\' || cp == '\n' || cp == '\t' || cp == '\r' || cp == '\b' || cp == '\f') {
      return 2;
    }
    if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029) {
      return 6;
    }
    if (cp < 0x80) {
      return 1;
    }
    if (cp < 0x800) {
      return 2;
    }
    // unpaired surrogates are stored as U+FFFD: 3 bytes too
    return cp < 0x10000 ? 3 : 4;
  }
}
