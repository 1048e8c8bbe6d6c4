package dev.nixek.ci.api.v1alpha1;

/**
 * What free text in a spec may hold (scripts, arguments, environment values, Nix source): any character YAML can
 * print — tab, line feed, carriage return, NEL and everything from U+0020 on — but no other C0 control character,
 * no DEL, no C1 control character but NEL, and not U+FFFE/U+FFFF. One stored character outside that set makes
 * {@code kubectl get -o yaml} fail for every list the object is in ("yaml: control characters are not allowed"),
 * so the API server refuses it at the door. RE2 (the API server) and java.util.regex read the pattern alike.
 */
public final class TextRules {
  /** The schema pattern of such text. */
  public static final String YAML_PRINTABLE =
      "^[^\\x{0}-\\x{8}\\x{b}\\x{c}\\x{e}-\\x{1f}\\x{7f}-\\x{84}\\x{86}-\\x{9f}\\x{fffe}\\x{ffff}]*$";

  private TextRules() {}

  /** The index of the first character of {@code text} that {@link #YAML_PRINTABLE} refuses, or -1. */
  public static int firstUnprintable(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean refused = (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c <= 0x9f && c != 0x85)
          || c == 0xfffe || c == 0xffff;
      if (refused) {
        return i;
      }
    }
    return -1;
  }
}
