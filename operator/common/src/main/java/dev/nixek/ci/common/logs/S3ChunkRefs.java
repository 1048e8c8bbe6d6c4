package dev.nixek.ci.common.logs;

import java.util.Iterator;
import java.util.NoSuchElementException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 log store's chunk objects as a LIST gives them (in key order, so in seq order): which of them form the log
 * (from 0 until a gap), at which offsets (the sum of the sizes before), and which hold a given byte range. Lazy: a
 * LIST page is fetched only when the iteration gets there.
 */
final class S3ChunkRefs {
  private S3ChunkRefs() {}

  /** A chunk object: its seq, key, the offset of its first byte in the log, its size. */
  record ChunkRef(long seq, String key, long offset, long size) {
    long end() {
      return offset + size;
    }
  }

  /** The chunks of a step's LIST ({@code first}, then {@code rest}) from seq 0 until the first gap. */
  static Iterator<ChunkRef> contiguous(String chunkPrefix, S3Object first, Iterator<S3Object> rest) {
    return new Iterator<>() {
      private S3Object pending = first;
      private long seq;
      private long offset;
      private ChunkRef next = advance();

      private ChunkRef advance() {
        while (true) {
          S3Object o = pending;
          pending = null;
          if (o == null) {
            if (!rest.hasNext()) {
              return null;
            }
            o = rest.next();
          }
          if (!o.key().startsWith(chunkPrefix)) {
            continue; // log.index of an interrupted seal
          }
          long s = ChunkIndex.parseSeqName(o.key().substring(chunkPrefix.length()));
          if (s < 0 || s < seq) {
            continue;
          }
          if (s > seq) {
            return null; // a gap: what follows is not part of the log (yet)
          }
          ChunkRef c = new ChunkRef(seq, o.key(), offset, o.size());
          seq++;
          offset += o.size();
          return c;
        }
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public ChunkRef next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        ChunkRef c = next;
        next = advance();
        return c;
      }
    };
  }

  /** The chunks of {@code all} that hold bytes from {@code from} on, as many as cover {@code maxBytes}. */
  static Iterator<ChunkRef> from(Iterator<ChunkRef> all, long from, long maxBytes) {
    return new Iterator<>() {
      private ChunkRef next = advance();

      private ChunkRef advance() {
        while (all.hasNext()) {
          ChunkRef c = all.next();
          if (c.offset >= S3LogStore.saturatedEnd(from, maxBytes)) {
            return null;
          }
          if (c.end() > from) {
            return c;
          }
        }
        return null;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public ChunkRef next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        ChunkRef c = next;
        next = advance();
        return c;
      }
    };
  }
}
