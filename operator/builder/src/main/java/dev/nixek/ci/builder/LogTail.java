package dev.nixek.ci.builder;

import java.nio.charset.StandardCharsets;

/**
 * The last {@code capacity} bytes written to the pod log. A NixOS build can print megabytes; only the end is
 * useful in a termination message (4 KiB) and holding all of it would make memory depend on the build.
 * Thread-safe: stdout and stderr of the build are pumped by two threads.
 */
public final class LogTail {
  public static final int DEFAULT_CAPACITY = 64 * 1024;

  private final byte[] ring;
  private long total;
  /** Pumps still copying into this tail: a termination message written on a signal waits for them. */
  private int writers;

  public LogTail() {
    this(DEFAULT_CAPACITY);
  }

  public LogTail(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.ring = new byte[capacity];
  }

  public void append(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    append(bytes, 0, bytes.length);
  }

  public synchronized void append(byte[] bytes, int offset, int length) {
    int capacity = ring.length;
    if (length > capacity) {
      // only the last `capacity` bytes can survive; skip copying the rest
      offset += length - capacity;
      total += length - capacity;
      length = capacity;
    }
    int position = (int) (total % capacity);
    int first = Math.min(length, capacity - position);
    System.arraycopy(bytes, offset, ring, position, first);
    System.arraycopy(bytes, offset + first, ring, 0, length - first);
    total += length;
  }

  /** A pump begins to copy a stream into this tail; it calls {@link #closeWriter()} at the stream's end. */
  public synchronized void openWriter() {
    writers++;
  }

  public synchronized void closeWriter() {
    if (writers > 0) {
      writers--;
    }
    notifyAll();
  }

  /**
   * Waits until every open writer has reached the end of its stream, at most {@code timeoutMillis}. On a
   * signal the build is killed by one shutdown hook while another writes the termination message: the last
   * lines the build printed may still sit in a pipe, and they are the ones that say why.
   *
   * @return true when no writer is open any more
   */
  public synchronized boolean awaitWriters(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (writers > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000L));
    }
    return true;
  }

  /** Bytes ever appended (the log's full length, not just what is kept). */
  public synchronized long totalBytes() {
    return total;
  }

  public synchronized byte[] bytes() {
    int capacity = ring.length;
    int kept = (int) Math.min(total, capacity);
    byte[] out = new byte[kept];
    int start = (int) ((total - kept) % capacity);
    int first = Math.min(kept, capacity - start);
    System.arraycopy(ring, start, out, 0, first);
    System.arraycopy(ring, 0, out, first, kept - first);
    return out;
  }

  /**
   * The kept bytes as text. When older bytes were dropped the cut may fall inside a multi-byte character:
   * its orphaned continuation bytes are skipped rather than shown as replacement characters.
   */
  public String text() {
    byte[] bytes;
    boolean truncated;
    synchronized (this) {
      bytes = bytes();
      truncated = total > ring.length;
    }
    int start = 0;
    if (truncated) {
      while (start < bytes.length && start < 3 && (bytes[start] & 0xC0) == 0x80) {
        start++;
      }
    }
    return new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
  }
}
