package dev.nixek.ci.builder;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Reads a file sequentially into caller-owned part buffers. */
final class FileParts implements AutoCloseable {
  /**
   * Reads go through the JDK's per-thread temporary direct buffer, which grows to the size of the largest read
   * and stays: reading a 64 MiB part in one call would add 64 MiB of native memory. Slices keep it at 1 MiB.
   */
  private static final int READ_SLICE = 1024 * 1024;

  private final FileChannel channel;

  FileParts(Path file) throws IOException {
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
  }

  /** Fills {@code buffer[0, length)} with the next bytes of the file; fails if the file ends before. */
  void readFully(byte[] buffer, int length) throws IOException {
    int filled = 0;
    while (filled < length) {
      int n = channel.read(ByteBuffer.wrap(buffer, filled, Math.min(READ_SLICE, length - filled)));
      if (n < 0) {
        throw new EOFException("file shrank while reading: got " + filled + " of " + length + " bytes of a part");
      }
      filled += n;
    }
  }

  /** True when the file has bytes past what was read (it grew since its size was taken). */
  boolean hasMore() throws IOException {
    return channel.position() < channel.size();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** SHA-256 of the first {@code size} bytes of {@code file}, read through {@code buffer}; lowercase hex. */
  static String sha256(Path file, long size, byte[] buffer) throws IOException {
    MessageDigest digest = sha256();
    try (FileParts parts = new FileParts(file)) {
      long remaining = size;
      while (remaining > 0) {
        int n = (int) Math.min(buffer.length, remaining);
        parts.readFully(buffer, n);
        digest.update(buffer, 0, n);
        remaining -= n;
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
