package dev.nixek.ci.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One step's output on disk, between the thread that reads the step's stream and the reporter that sends it.
 * Memory stays flat whatever the step prints: only the byte count lives on the heap.
 *
 * <p>The channel stays open until the output is delivered, so a step that wipes its working directory (where
 * the spool may live) cannot take undelivered output with it. Once {@link #seal() sealed} the size is final;
 * bytes the pump still writes afterwards (a background process holding the pipe) are ignored.
 */
final class OutputSpool implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private long size;
  private boolean sealed;

  OutputSpool(Path file) throws IOException {
    this.file = file;
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
  }

  /** Appends; only the pump thread calls this, so writing outside the lock cannot interleave. */
  void append(byte[] buf, int off, int len) throws IOException {
    long at;
    synchronized (this) {
      if (sealed) {
        return;
      }
      at = size;
    }
    ByteBuffer src = ByteBuffer.wrap(buf, off, len);
    long pos = at;
    while (src.hasRemaining()) {
      pos += channel.write(src, pos);
    }
    synchronized (this) {
      if (!sealed) {
        size = at + len;
        notifyAll();
      }
    }
  }

  /** No more output: the final size is fixed. Idempotent. */
  synchronized void seal() {
    sealed = true;
    notifyAll();
  }

  synchronized long size() {
    return size;
  }

  synchronized boolean isSealed() {
    return sealed;
  }

  /**
   * Waits until at least {@code target} bytes exist, the spool is sealed, or {@code deadlineNanos}
   * ({@link System#nanoTime()}) passes. Returns the size at that moment.
   */
  synchronized long awaitSize(long target, long deadlineNanos) throws InterruptedException {
    while (size < target && !sealed) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        break;
      }
      long millis = Math.max(1, left / 1_000_000);
      wait(millis);
    }
    return size;
  }

  /** Reads up to {@code len} bytes at {@code offset}; only bytes below {@link #size()} are ever read. */
  byte[] read(long offset, int len) throws IOException {
    long available = size() - offset;
    int n = (int) Math.max(0, Math.min(len, available));
    ByteBuffer dst = ByteBuffer.allocate(n);
    while (dst.hasRemaining()) {
      if (channel.read(dst, offset + dst.position()) < 0) {
        throw new IOException("spool " + file + " is shorter than its recorded size");
      }
    }
    return dst.array();
  }

  /** Delivered: free the disk space. */
  @Override
  public void close() throws IOException {
    seal();
    channel.close();
    Files.deleteIfExists(file);
  }
}
