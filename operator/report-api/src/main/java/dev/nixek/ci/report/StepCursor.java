package dev.nixek.ci.report;

import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.status.OutputTail;
import java.util.Arrays;

/**
 * What this replica knows of one running step's output, so that a chunk in order costs one store write and no read
 * (docs/logs.md#ingest-and-coalesced-status). It may be behind the store (another replica took chunks, or this one
 * restarted): the ingest then checks the store and catches up ({@link #resync}). Guarded by its own monitor: the
 * job's reports change it one at a time, the status flusher reads it.
 */
final class StepCursor {
  final StepLog log;
  /**
   * The SHA-256 of the token whose reports built this cursor. A retried job's next attempt writes to the same step
   * logs under a new token: a cursor of the old attempt must not be continued (see {@link StepCursors#get}), nor its
   * counts flushed into the new attempt's status.
   */
  final String tokenSha256;
  /** Bytes stored by earlier steps of the job, for the job's limit. */
  final long storedBefore;
  /** The most this step stores before it is cut, and the option that says so (for the marker). */
  final long limit;
  final String limitOption;
  final int tailLimit;

  /** The next seq and offset the agent may send. */
  long nextSeq;
  long nextOffset;
  /** The last chunk this replica acknowledged (for a replay without a store read); lastSeq -1 for none. */
  long lastSeq = -1;
  long lastOffset;
  String lastSha256;
  /** Bytes in the store; more than {@link #limit} once cut (the marker). */
  long storedBytes;
  /** Set once the log is cut: the bytes of the output at the cut. */
  Long cutAt;
  /** The step ended (its finished report was applied here): chunks are checked against the store only. */
  boolean finished;
  /** The status lags what was acknowledged. */
  boolean dirty;
  /** The tail window misses chunks another replica stored: rebuild it from the store before writing it. */
  boolean tailStale;
  /** The last {@code tailLimit} stored bytes, as a ring. */
  private byte[] tail = new byte[0];
  /** When this replica last used the cursor (for eviction). */
  long lastUsedMillis;

  StepCursor(StepLog log, String tokenSha256, long storedBefore, LogLimits limits, int tailLimit) {
    this.log = log;
    this.tokenSha256 = java.util.Objects.requireNonNull(tokenSha256, "tokenSha256");
    this.storedBefore = storedBefore;
    this.limit = limits.forStep(storedBefore);
    this.limitOption = limits.cutBy(storedBefore);
    this.tailLimit = tailLimit;
  }

  /** Appends stored bytes to the tail window. */
  void appendTail(byte[] data, int from, int length) {
    if (length >= tailLimit) {
      tail = Arrays.copyOfRange(data, from + length - tailLimit, from + length);
      return;
    }
    int keep = Math.min(tail.length, tailLimit - length);
    byte[] next = new byte[keep + length];
    System.arraycopy(tail, tail.length - keep, next, 0, keep);
    System.arraycopy(data, from, next, keep, length);
    tail = next;
  }

  /** Replaces the tail window with bytes read from the store. */
  void resetTail(byte[] stored) {
    tail = new byte[0];
    appendTail(stored, 0, stored.length);
    tailStale = false;
  }

  /** The tail as status keeps it: text, escaped, cut to its budget; no half character at the front. */
  String tailText() {
    return tailText(tail, tailLimit);
  }

  /** {@code raw}, the last stored bytes, as a status tail of at most {@code tailLimit} bytes. */
  static String tailText(byte[] raw, int tailLimit) {
    int start = 0;
    // the window may start inside a UTF-8 sequence: skip its continuation bytes rather than show a replacement
    while (start < raw.length && start < 3 && (raw[start] & 0xC0) == 0x80) {
      start++;
    }
    return OutputTail.append(null, Arrays.copyOfRange(raw, start, raw.length), tailLimit);
  }

  /** Catches up with the store: {@code chunks} chunks and {@code bytes} bytes are stored. */
  void resync(long chunks, long bytes) {
    if (chunks != nextSeq || bytes != storedBytes) {
      tailStale = true;
    }
    nextSeq = Math.max(nextSeq, chunks);
    if (cutAt == null) {
      nextOffset = bytes;
    }
    storedBytes = bytes;
  }

  /** What the status flusher writes, taken under the monitor. */
  synchronized Snapshot snapshot() {
    return new Snapshot(log.stepIndex(), tokenSha256, nextSeq, nextOffset, cutAt, tailStale ? null : tailText());
  }

  /** The step's output as status shows it; {@code tail} null when it must be read from the store first. */
  record Snapshot(int index, String tokenSha256, long chunks, long bytes, Long cutAt, String tail) {}
}
