package dev.nixek.ci.common.logs;

/**
 * The stored state of one step's log: chunks {@code 0 .. chunks-1} are stored without a gap and hold bytes
 * {@code [0, bytes)}; {@code sealed} once the step ended and its chunks were compacted into one object (after which
 * no chunk is accepted). A step with nothing stored is {@code (0, 0, false)}.
 */
public record StoredLog(long chunks, long bytes, boolean sealed) {
  public static final StoredLog EMPTY = new StoredLog(0, 0, false);
}
