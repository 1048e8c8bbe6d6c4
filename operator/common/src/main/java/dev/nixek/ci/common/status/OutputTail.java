package dev.nixek.ci.common.status;

import dev.nixek.ci.common.text.ControlChars;
import dev.nixek.ci.common.text.JsonSize;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The bounded tail of a step's output kept in status (docs/architecture.md#status-budget): the end of the output, as
 * text, taking at most {@code limit} bytes in the stored JSON object.
 *
 * <p>Output is arbitrary bytes; the tail is UTF-8 text with malformed sequences replaced and control characters
 * escaped (docs/security.md#text-hygiene). A cut never leaves half a character at the start; it may leave the end
 * of an escape ({@code 1b} of {@code \x1b}).
 */
public final class OutputTail {
  /** The tail size per step when the job has few steps. */
  public static final int DEFAULT_MAX_BYTES = 4096;
  /** The total budget for all tails of one job, so a 1,000-step job's status stays small. */
  public static final int DEFAULT_BUDGET_BYTES = 128 * 1024;
  /** No tail is cut below this, whatever the number of steps. */
  public static final int MIN_BYTES = 256;

  private OutputTail() {}

  /** The per-step tail limit for a job of {@code steps} steps. */
  public static int limitFor(int steps, int maxBytes, int budgetBytes) {
    int share = budgetBytes / Math.max(1, steps);
    return Math.max(Math.min(MIN_BYTES, maxBytes), Math.min(maxBytes, share));
  }

  /**
   * The tail after {@code chunk} is appended to {@code tail}: control characters escaped ({@link ControlChars}), then
   * cut at the front to what takes at most {@code limit} bytes as a JSON string ({@link JsonSize}), so that neither
   * quotes nor control characters can make the stored object larger than its budget.
   */
  public static String append(String tail, byte[] chunk, int limit) {
    String all = (tail == null ? "" : tail) + ControlChars.escape(decode(chunk));
    long size = 0;
    int start = all.length();
    while (start > 0) {
      int cp = all.codePointBefore(start);
      int cost = JsonSize.of(cp);
      if (size + cost > limit) {
        break;
      }
      size += cost;
      start -= Character.charCount(cp);
    }
    return all.substring(start);
  }

  private static String decode(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("a replacing decoder cannot fail", e);
    }
  }
}
