package dev.nixek.ci.protocol;

/**
 * Report: bytes {@code [offset, offset + len(data))} of a step's combined stdout/stderr, base64-encoded.
 * {@code seq} numbers the chunks of one step from 0 without gaps; a chunk whose seq was already applied is a
 * replay and is acknowledged without effect.
 */
public record OutputChunk(long seq, long offset, String data) {
  /** The largest decoded chunk the agent sends; the report API rejects larger ones with 422. */
  public static final int MAX_BYTES = 16 * 1024;
}
