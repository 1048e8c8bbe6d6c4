package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The fixed-size record a store keeps per chunk: offset (8 bytes), length (4) and SHA-256 (32), big-endian. A sealed
 * log's index is these records in sequence order, so chunk {@code seq} is at byte {@code seq * SIZE}: {@link
 * LogStore#chunk} stays one small read after sealing. The local store also starts each chunk file with one.
 */
final class ChunkIndex {
  static final int SIZE = 8 + 4 + 32;
  private static final HexFormat HEX = HexFormat.of();

  private ChunkIndex() {}

  static byte[] encode(StoredChunk c) {
    return ByteBuffer.allocate(SIZE).putLong(c.offset()).putInt(c.length()).put(HEX.parseHex(c.sha256())).array();
  }

  static StoredChunk decode(long seq, byte[] record) throws IOException {
    if (record.length != SIZE) {
      throw new IOException("chunk record of " + record.length + " bytes, expected " + SIZE);
    }
    ByteBuffer b = ByteBuffer.wrap(record);
    long offset = b.getLong();
    int length = b.getInt();
    byte[] sha = new byte[32];
    b.get(sha);
    if (offset < 0 || length < 0) {
      throw new IOException("corrupt chunk record for seq " + seq);
    }
    return new StoredChunk(seq, offset, length, HEX.formatHex(sha));
  }

  static String sha256Hex(byte[] data) {
    return HEX.formatHex(sha256().digest(data));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** Checks the arguments every store's {@code put} takes. */
  static void checkPut(long seq, long offset, byte[] data) {
    if (seq < 0 || offset < 0) {
      throw new IllegalArgumentException("seq and offset must be >= 0, were " + seq + " and " + offset);
    }
    if (data == null) {
      throw new IllegalArgumentException("data is required");
    }
  }

  /** The fixed-width decimal name of chunk {@code seq}, so that names sort as numbers. */
  static String seqName(long seq) {
    return String.format("%019d", seq);
  }

  /** The seq of a chunk name, or -1 for any other name (a temp file). */
  static long parseSeqName(String name) {
    if (name.length() != 19) {
      return -1;
    }
    for (int i = 0; i < 19; i++) {
      char ch = name.charAt(i);
      if (ch < '0' || ch > '9') {
        return -1;
      }
    }
    return Long.parseLong(name);
  }
}
