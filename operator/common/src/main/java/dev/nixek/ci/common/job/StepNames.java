package dev.nixek.ci.common.job;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import java.util.Optional;

/**
 * What a step name is: display text ("Check hello", "Build / test"), one line (no control character, no line or
 * paragraph separator), at most {@link NixekJobStep#NAME_MAX} characters, no space at either end. The CRD's pattern ({@link
 * NixekJobStep#NAME_PATTERN}) and nix/lib/job.nix say the same; this class also says why a name is refused, in the
 * words the Nix library uses. Nothing uses a name as an identifier: reports, spool files and threads address a step
 * by its index (docs/architecture.md, "Step names and identifiers").
 */
public final class StepNames {
  /** How much of a refused name a message quotes: enough to recognise it, bounded whatever was sent. */
  public static final int QUOTED_MAX = 64;

  private StepNames() {}

  /** Why {@code name} (not null, not empty) is not a step name, or empty when it is one. */
  public static Optional<String> problem(String name) {
    int characters = name.codePointCount(0, name.length());
    if (characters > NixekJobStep.NAME_MAX) {
      return Optional.of("more than " + NixekJobStep.NAME_MAX + " characters (" + characters + ")");
    }
    int position = 0;
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      position++;
      if (Character.getType(cp) == Character.SURROGATE) {
        // Java's JSON parsers let "\ud800" through; Go's (the API server) would store U+FFFD instead
        return Optional.of("not valid Unicode (an unpaired surrogate at character " + position + ")");
      }
      if (Character.getType(cp) == Character.CONTROL) {
        return Optional.of("control character " + codePoint(cp) + " at character " + position);
      }
      if (Character.getType(cp) == Character.LINE_SEPARATOR || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR) {
        return Optional.of("line break " + codePoint(cp) + " at character " + position);
      }
      i += Character.charCount(cp);
    }
    int first = name.codePointAt(0);
    if (isSpace(first)) {
      return Optional.of("starts with a space (" + codePoint(first) + ")");
    }
    int last = name.codePointBefore(name.length());
    if (isSpace(last)) {
      return Optional.of("ends with a space (" + codePoint(last) + ")");
    }
    return Optional.empty();
  }

  /**
   * {@code name} for a message: in single quotes, its first {@value #QUOTED_MAX} characters, control and format
   * characters, line separators, unpaired surrogates, quotes and backslashes as {@code \}{@code uXXXX} escapes, so
   * that what a client sent can neither run on unbounded nor forge a log line.
   */
  public static String quote(String name) {
    if (name == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder("'");
    int shown = 0;
    for (int i = 0; i < name.length(); ) {
      if (shown == QUOTED_MAX) {
        return out.append("'… (").append(name.codePointCount(0, name.length())).append(" characters)").toString();
      }
      int cp = name.codePointAt(i);
      int type = Character.getType(cp);
      boolean escape = type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE || cp == '\'' || cp == '\\';
      if (escape) {
        out.append(String.format("\\u%04X", cp));
      } else {
        out.appendCodePoint(cp);
      }
      shown++;
      i += Character.charCount(cp);
    }
    return out.append('\'').toString();
  }

  private static boolean isSpace(int cp) {
    int type = Character.getType(cp);
    return type == Character.SPACE_SEPARATOR;
  }

  private static String codePoint(int cp) {
    return String.format("U+%04X", cp);
  }
}
