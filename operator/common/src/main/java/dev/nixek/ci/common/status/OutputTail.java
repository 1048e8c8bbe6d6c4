package dev.nixek.ci.common.status;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The bounded tail of a step's output kept in status (docs/architecture.md#status-budget): the last {@code limit} bytes, as text.
 *
 * <p>Output is arbitrary bytes; the tail is UTF-8 text with malformed sequences replaced. A cut never leaves half
 * a character at the start.
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

  /** The tail after {@code chunk} is appended to {@code tail}, at most {@code limit} bytes of UTF-8. */
  public static String append(String tail, byte[] chunk, int limit) {
    byte[] old = tail == null ? new byte[0] : tail.getBytes(StandardCharsets.UTF_8);
    String added = decode(chunk);
    byte[] addedBytes = added.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[old.length + addedBytes.length];
    System.arraycopy(old, 0, all, 0, old.length);
    System.arraycopy(addedBytes, 0, all, old.length, addedBytes.length);
    if (all.length <= limit) {
      return new String(all, StandardCharsets.UTF_8);
    }
    int start = all.length - limit;
    // skip continuation bytes (10xxxxxx) so that the tail starts on a character boundary
    while (start < all.length && (all[start] & 0xC0) == 0x80) {
      start++;
    }
    return new String(all, start, all.length - start, StandardCharsets.UTF_8);
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
