package dev.nixek.ci.common.text;

/**
 * Text hygiene for whatever untrusted text reaches an object or a terminal (docs/security.md#text-hygiene): step
 * output tails, Event and condition messages, log lines.
 *
 * <p>Control characters are replaced by a visible escape: C0 (U+0000–U+001F) and DEL (U+007F) as {@code \xHH}, C1
 * (U+0080–U+009F) as {@code \}{@code u00HH}, hex digits in lower case. Line feed and tab stay, unless {@link #escapeAll}
 * is asked for (a log line must stay one line). Backslashes are left alone, so an escape is not unambiguous: a
 * program may print {@code \x1b} literally. The point is that nothing a terminal or a YAML parser acts on survives,
 * not that the original can be rebuilt; the report API never stores more than a tail anyway.
 */
public final class ControlChars {
  private ControlChars() {}

  /** {@code text} with control characters but {@code \n} and {@code \t} escaped; null stays null. */
  public static String escape(String text) {
    return escape(text, true);
  }

  /** {@code text} with every control character escaped, {@code \n} and {@code \t} too: for one log line. */
  public static String escapeAll(String text) {
    return escape(text, false);
  }

  /** Whether {@code c} is a control character this class escapes (line feed and tab are). */
  public static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
  }

  private static String escape(String text, boolean keepLinesAndTabs) {
    if (text == null) {
      return null;
    }
    int first = firstToEscape(text, keepLinesAndTabs);
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      if (needsEscape(c, keepLinesAndTabs)) {
        appendEscape(out, c);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The visible form of one control character. */
  static void appendEscape(StringBuilder out, char c) {
    out.append(c <= 0x7f ? "\\x" : "\\u00");
    out.append(Character.forDigit((c >> 4) & 0xf, 16)).append(Character.forDigit(c & 0xf, 16));
  }

  private static int firstToEscape(String text, boolean keepLinesAndTabs) {
    for (int i = 0; i < text.length(); i++) {
      if (needsEscape(text.charAt(i), keepLinesAndTabs)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean needsEscape(char c, boolean keepLinesAndTabs) {
    return isControl(c) && !(keepLinesAndTabs && (c == '\n' || c == '\t'));
  }
}
