package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A 50 MB log in 16 KiB chunks, binary and UTF-8 (long lines, then no newline at all, multi-byte characters split
 * across chunks), on each store: read before and after sealing, its SHA-256 is the written bytes'. Sealing on S3
 * goes through the multipart path (8 MiB parts and a short last one). An IT: it moves 100+ MB through each store.
 */
class LargeLogIT {
  static final int TOTAL = 50_000_000; // not a multiple of 16 KiB: the last chunk is short
  static final int CHUNK = 16 * 1024;
  static final String BUCKET = "nixek-logs-large";
  static S3ProxyServer s3proxy;

  @TempDir
  Path dir;

  @BeforeAll
  static void startS3() {
    s3proxy = S3ProxyServer.builder().transientStore().start();
    s3proxy.createBucket(BUCKET);
  }

  @AfterAll
  static void stopS3() {
    s3proxy.close();
  }

  @ParameterizedTest(name = "{0} store, {1}")
  @CsvSource({"local, binary", "local, utf8", "s3, binary", "s3, utf8"})
  void aFiftyMegabyteLogIsStoredByteForByte(String kind, String content) throws Exception {
    StepLog step = new StepLog("team-a", "big-" + content, "5a5a5a5a-" + kind + "-4a2b-9c3d", 3);
    try (LogStore store = kind.equals("local") ? new LocalLogStore(dir.resolve("logs"))
        : new S3LogStore(s3proxy.s3Client(), BUCKET, "large/", false)) {
      byte[] all = content.equals("binary") ? binary() : utf8();
      assertThat(all).hasSize(TOTAL);
      String expected = sha256(all, 0, all.length);

      int chunks = (TOTAL + CHUNK - 1) / CHUNK;
      putConcurrently(store, step, all, chunks);
      assertThat(store.state(step)).isEqualTo(new StoredLog(chunks, TOTAL, false));
      if (content.equals("binary")) {
        assertThat(readSha(store, step, 0)).as("before sealing").isEqualTo(expected);
      }

      store.seal(step);
      assertThat(store.state(step)).isEqualTo(new StoredLog(chunks, TOTAL, true));
      assertThat(readSha(store, step, 0)).as("after sealing").isEqualTo(expected);
      // a range from the middle of one chunk into the middle of another, after sealing
      int from = 7 * CHUNK + 123;
      assertThat(readSha(store, step, from, 3 * CHUNK)).isEqualTo(sha256(all, from, 3 * CHUNK));
      assertThat(store.chunk(step, chunks - 1)).map(StoredChunk::length).contains(TOTAL - (chunks - 1) * CHUNK);
      store.delete(step.job());
      assertThat(store.jobs()).isEmpty();
    }
  }

  /** Eight writers, as eight steps' worth of report API threads would: the store must not mind the order. */
  private static void putConcurrently(LogStore store, StepLog step, byte[] all, int chunks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int first = t;
        done.add(pool.submit(() -> {
          for (int seq = first; seq < chunks; seq += 8) {
            int off = seq * CHUNK;
            byte[] data = java.util.Arrays.copyOfRange(all, off, Math.min(TOTAL, off + CHUNK));
            store.put(step, seq, off, data);
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static String readSha(LogStore store, StepLog step, long from) throws IOException {
    return readSha(store, step, from, Long.MAX_VALUE);
  }

  private static String readSha(LogStore store, StepLog step, long from, long max) throws IOException {
    MessageDigest d = ChunkIndex.sha256();
    long n = store.read(step, from, max, new OutputStream() {
      @Override
      public void write(int b) {
        d.update((byte) b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        d.update(b, off, len);
      }
    });
    assertThat(n).isEqualTo(Math.min(max, TOTAL - from));
    return HexFormat.of().formatHex(d.digest());
  }

  private static String sha256(byte[] b, int off, int len) {
    MessageDigest d = ChunkIndex.sha256();
    d.update(b, off, len);
    return HexFormat.of().formatHex(d.digest());
  }

  private static byte[] binary() {
    byte[] b = new byte[TOTAL];
    new Random(50).nextBytes(b);
    return b;
  }

  /** Lines of ~200 KB for the first half, then one line of 25 MB with no newline; 2-, 3- and 4-byte characters. */
  private static byte[] utf8() {
    String words = "ünïcødé λόγος 日本語のログ 𝄞𝄢 ascii-words ";
    StringBuilder text = new StringBuilder(TOTAL);
    int line = 0;
    while (text.length() < TOTAL) {
      text.append("line ").append(line++).append(": ");
      for (int i = 0; i < 4000 && text.length() < TOTAL; i++) {
        text.append(words);
      }
      if (text.length() < TOTAL / 2) {
        text.append('\n');
      }
    }
    byte[] encoded = text.toString().getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[TOTAL];
    System.arraycopy(encoded, 0, out, 0, TOTAL); // cut mid-character on purpose: the store keeps bytes, not text
    return out;
  }
}
