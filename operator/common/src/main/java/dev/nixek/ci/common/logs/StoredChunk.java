package dev.nixek.ci.common.logs;

/**
 * What the store holds of one output chunk: bytes {@code [offset, offset + length)} of the step's log, with the
 * SHA-256 (lower-case hex) of those bytes, so that a replay can be told from a contradiction without reading them.
 */
public record StoredChunk(long seq, long offset, int length, String sha256) {
  /** The offset right after this chunk: where the next chunk must start. */
  public long end() {
    return offset + length;
  }
}
