package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LogStore} must do (LogStore's Javadoc), run against each store by a subclass that says how to
 * open another instance over the same storage (a second report API replica).
 */
abstract class LogStoreContract {
  static final StepLog STEP = new StepLog("team-a", "build.main", "0c7f4d3e-1111-4a2b-9c3d-aaaaaaaaaaaa", 0);

  private final List<LogStore> opened = new ArrayList<>();

  /** A new store instance over this test's storage (the same storage on every call within a test). */
  protected abstract LogStore openStore() throws IOException;

  /** How many objects/files the store holds under its root or prefix (path-safety checks). */
  protected abstract long storedEntries() throws IOException;

  protected LogStore store() throws IOException {
    LogStore s = openStore();
    opened.add(s);
    return s;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(LogStore::close);
  }

  @Test
  void storesChunksAndReportsThem() throws IOException {
    LogStore s = store();
    byte[][] chunks = {bytes("hello "), bytes("wörld\n"), new byte[] {0, (byte) 0xff, 10}};
    long expectedBytes = putAll(s, STEP, chunks);

    assertThat(s.state(STEP)).isEqualTo(new StoredLog(3, expectedBytes, false));
    assertThat(s.chunk(STEP, 1)).contains(new StoredChunk(1, 6, chunks[1].length, ChunkIndex.sha256Hex(chunks[1])));
    assertThat(s.chunk(STEP, 3)).isEmpty();
    assertThat(s.chunk(STEP, -1)).isEmpty();
    assertThat(readAll(s, STEP)).isEqualTo(concat(chunks));
    assertThat(s.state(STEP.job().step(1))).isEqualTo(StoredLog.EMPTY);
    assertThat(readAll(s, STEP.job().step(1))).isEmpty();
  }

  @Test
  void replayingAChunkWithTheSameBytesChangesNothing() throws IOException {
    LogStore s = store();
    byte[][] chunks = {bytes("one\n"), bytes("two\n")};
    putAll(s, STEP, chunks);
    s.put(STEP, 1, 4, chunks[1]);
    s.put(STEP, 0, 0, chunks[0]);

    assertThat(s.state(STEP)).isEqualTo(new StoredLog(2, 8, false));
    assertThat(readAll(s, STEP)).isEqualTo(concat(chunks));
  }

  @Test
  void stateCountsOnlyChunksWithoutAGapFromZero() throws IOException {
    LogStore s = store();
    s.put(STEP, 0, 0, bytes("aa"));
    s.put(STEP, 1, 2, bytes("bbb"));
    s.put(STEP, 3, 7, bytes("dd"));

    assertThat(s.state(STEP)).isEqualTo(new StoredLog(2, 5, false));
    assertThat(s.chunk(STEP, 3)).map(StoredChunk::offset).contains(7L);
    assertThat(readAll(s, STEP)).isEqualTo(bytes("aabbb"));
    assertThat(read(s, STEP, 5, 100)).isEmpty();

    s.put(STEP, 2, 5, bytes("cc"));
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(4, 9, false));
    assertThat(readAll(s, STEP)).isEqualTo(bytes("aabbbccdd"));
  }

  @Test
  void nothingStoredBeforeChunkZero() throws IOException {
    LogStore s = store();
    s.put(STEP, 1, 3, bytes("later"));
    assertThat(s.state(STEP)).isEqualTo(StoredLog.EMPTY);
    assertThat(readAll(s, STEP)).isEmpty();
  }

  @Test
  void sealingKeepsEveryByteAndIsIdempotent() throws IOException {
    LogStore s = store();
    byte[][] chunks = randomChunks(new Random(1), 20, 1, 300);
    long total = putAll(s, STEP, chunks);
    byte[] before = readAll(s, STEP);
    List<StoredChunk> chunkRecords = new ArrayList<>();
    for (int i = 0; i < chunks.length; i++) {
      chunkRecords.add(s.chunk(STEP, i).orElseThrow());
    }

    s.seal(STEP);
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(chunks.length, total, true));
    assertThat(readAll(s, STEP)).isEqualTo(before).isEqualTo(concat(chunks));
    for (int i = 0; i < chunks.length; i++) {
      assertThat(s.chunk(STEP, i)).as("chunk %d after sealing", i).contains(chunkRecords.get(i));
    }
    assertThat(s.chunk(STEP, chunks.length)).isEmpty();

    s.seal(STEP);
    store().seal(STEP);
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(chunks.length, total, true));
    assertThat(readAll(s, STEP)).isEqualTo(before);
  }

  @Test
  void aChunkAfterSealingIsNeverRead() throws IOException {
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("done\n")});
    s.seal(STEP);
    s.put(STEP, 1, 5, bytes("late\n"));
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(1, 5, true));
    assertThat(readAll(s, STEP)).isEqualTo(bytes("done\n"));
  }

  @Test
  void sealingAStepWithNothingStoredGivesAnEmptySealedLog() throws IOException {
    LogStore s = store();
    s.seal(STEP);
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(0, 0, true));
    assertThat(readAll(s, STEP)).isEmpty();
    assertThat(s.chunk(STEP, 0)).isEmpty();
  }

  @Test
  void sealingDropsChunksAfterAGap() throws IOException {
    LogStore s = store();
    s.put(STEP, 0, 0, bytes("kept"));
    s.put(STEP, 2, 9, bytes("orphan"));
    s.seal(STEP);
    assertThat(s.state(STEP)).isEqualTo(new StoredLog(1, 4, true));
    assertThat(readAll(s, STEP)).isEqualTo(bytes("kept"));
  }

  @Test
  void readsDuringSealingSeeTheSameBytes() throws Exception {
    LogStore writer = store();
    LogStore reader = store();
    byte[][] chunks = randomChunks(new Random(2), 120, 1, 2000);
    putAll(writer, STEP, chunks);
    byte[] expected = concat(chunks);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    AtomicBoolean sealed = new AtomicBoolean();
    try {
      Future<Integer> reads = pool.submit(() -> {
        int n = 0;
        Random r = new Random(3);
        while (!sealed.get() || n < 3) {
          int from = r.nextInt(expected.length + 10);
          int max = r.nextInt(expected.length);
          byte[] got = read(reader, STEP, from, max);
          int end = Math.min(expected.length, from + max);
          assertThat(got).as("read(%d, %d)", from, max)
              .isEqualTo(from >= expected.length ? new byte[0] : Arrays.copyOfRange(expected, from, end));
          assertThat(readAll(reader, STEP)).isEqualTo(expected);
          n++;
        }
        return n;
      });
      Future<?> seal = pool.submit(() -> {
        writer.seal(STEP);
        sealed.set(true);
        return null;
      });
      seal.get(60, TimeUnit.SECONDS);
      assertThat(reads.get(60, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
    assertThat(reader.state(STEP).sealed()).isTrue();
  }

  @Test
  void rangedReadsAtEveryBoundary() throws IOException {
    LogStore s = store();
    byte[][] chunks = {bytes("a"), bytes("bcdef"), new byte[0], bytes("ghi"), bytes("jklmnop")};
    putAll(s, STEP, chunks);
    byte[] all = concat(chunks);
    checkEveryRange(s, all);
    s.seal(STEP);
    checkEveryRange(s, all);
  }

  private void checkEveryRange(LogStore s, byte[] all) throws IOException {
    for (int from = 0; from <= all.length + 2; from++) {
      for (long max : new long[] {0, 1, 2, 5, all.length, Integer.MAX_VALUE, Long.MAX_VALUE}) {
        int end = (int) Math.min(all.length, from + Math.min(max, all.length));
        byte[] expected = from >= all.length ? new byte[0] : Arrays.copyOfRange(all, from, end);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = s.read(STEP, from, max, out);
        assertThat(out.toByteArray()).as("read(%d, %d)", from, max).isEqualTo(expected);
        assertThat(n).isEqualTo(expected.length);
      }
    }
    assertThatThrownBy(() -> s.read(STEP, -1, 1, new ByteArrayOutputStream()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void twoInstancesInterleavingOneStepsChunksMakeOneLog() throws IOException {
    LogStore a = store();
    LogStore b = store();
    byte[][] chunks = randomChunks(new Random(4), 16, 1, 500);
    long offset = 0;
    for (int i = 0; i < chunks.length; i++) {
      LogStore replica = i % 2 == 0 ? a : b;
      LogStore other = i % 2 == 0 ? b : a;
      // what a replica does before storing: ask the store where the step is (the other replica wrote the last one)
      assertThat(replica.state(STEP)).isEqualTo(new StoredLog(i, offset, false));
      replica.put(STEP, i, offset, chunks[i]);
      offset += chunks[i].length;
      assertThat(other.chunk(STEP, i)).map(StoredChunk::end).contains(offset);
    }
    assertThat(readAll(a, STEP)).isEqualTo(readAll(b, STEP)).isEqualTo(concat(chunks));
    b.seal(STEP);
    assertThat(a.state(STEP)).isEqualTo(new StoredLog(chunks.length, offset, true));
    assertThat(readAll(a, STEP)).isEqualTo(concat(chunks));
  }

  @Test
  void deleteRemovesEveryLogOfTheJobOnly() throws IOException {
    LogStore s = store();
    StepLog other = new StepLog("team-a", "build.main", "0c7f4d3e-2222-4a2b-9c3d-bbbbbbbbbbbb", 0);
    putAll(s, STEP, new byte[][] {bytes("x")});
    putAll(s, STEP.job().step(1), new byte[][] {bytes("y")});
    s.seal(STEP.job().step(1));
    putAll(s, other, new byte[][] {bytes("z")});

    s.delete(STEP.job());
    assertThat(s.state(STEP)).isEqualTo(StoredLog.EMPTY);
    assertThat(s.state(STEP.job().step(1))).isEqualTo(StoredLog.EMPTY);
    assertThat(s.chunk(STEP.job().step(1), 0)).isEmpty();
    assertThat(readAll(s, STEP.job().step(1))).isEmpty();
    assertThat(readAll(s, other)).isEqualTo(bytes("z"));
    assertThat(s.jobs()).extracting(LogStore.StoredJob::job).containsExactly(other.job());

    s.delete(STEP.job());
    s.delete(other.job());
    assertThat(s.jobs()).isEmpty();
    assertThat(storedEntries()).isZero();
  }

  @Test
  void jobsListsEveryJobWithItsNewestWrite() throws IOException {
    LogStore s = store();
    assertThat(s.jobs()).isEmpty();
    Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(1);
    JobLogs other = new JobLogs("team-b", "nightly", "9f8e7d6c-3333-4a2b-9c3d-cccccccccccc");
    putAll(s, STEP, new byte[][] {bytes("x")});
    putAll(s, other.step(2), new byte[][] {bytes("y")});
    s.seal(other.step(2));
    Instant after = Instant.now().plusSeconds(1);

    List<LogStore.StoredJob> jobs = store().jobs();
    assertThat(jobs).extracting(LogStore.StoredJob::job).containsExactlyInAnyOrder(STEP.job(), other);
    assertThat(jobs).allSatisfy(j -> assertThat(j.lastWritten()).isBetween(before, after));
  }

  @Test
  void namesThatCouldEscapeTheStoreAreRefused() throws IOException {
    LogStore s = store();
    List<StepLog> bad = List.of(
        new StepLog("..", "job", "uid-1", 0),
        new StepLog("team-a", "../../etc", "uid-1", 0),
        new StepLog("team-a", "job", "../other", 0),
        new StepLog("team-a", "a/b", "uid-1", 0),
        new StepLog("team-a", ".", "uid-1", 0),
        new StepLog("team-a", "job..x", "uid-1", 0),
        new StepLog("Team-A", "job", "uid-1", 0),
        new StepLog("", "job", "uid-1", 0),
        new StepLog("team-a", "job", "", 0),
        new StepLog("team-a", "job", "uid\u0000", 0),
        new StepLog("team-a", "job", "/abs", 0),
        new StepLog("team-a", "x".repeat(254), "uid-1", 0));
    for (StepLog log : bad) {
      assertThatThrownBy(() -> s.put(log, 0, 0, bytes("x"))).as("put %s", log)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid");
      assertThatThrownBy(() -> s.state(log)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> s.read(log, 0, 10, new ByteArrayOutputStream()))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> s.seal(log)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> s.delete(log.job())).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(storedEntries()).isZero();
    // the longest valid names are fine
    StepLog longest = new StepLog("n".repeat(63), "a".repeat(63) + ("." + "b".repeat(63)).repeat(2) + ".c".repeat(31),
        "u".repeat(128), 7);
    s.put(longest, 0, 0, bytes("ok"));
    assertThat(readAll(s, longest)).isEqualTo(bytes("ok"));
  }

  @Test
  void badArgumentsAreRefused() throws IOException {
    LogStore s = store();
    assertThatThrownBy(() -> s.put(STEP, -1, 0, bytes("x"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.put(STEP, 0, -1, bytes("x"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.put(STEP, 0, 0, null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(s.state(STEP)).isEqualTo(StoredLog.EMPTY);
  }

  static long putAll(LogStore s, StepLog log, byte[][] chunks) throws IOException {
    long offset = 0;
    for (int i = 0; i < chunks.length; i++) {
      s.put(log, i, offset, chunks[i]);
      offset += chunks[i].length;
    }
    return offset;
  }

  static byte[] readAll(LogStore s, StepLog log) throws IOException {
    return read(s, log, 0, Long.MAX_VALUE);
  }

  static byte[] read(LogStore s, StepLog log, long from, long max) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = s.read(log, from, max, out);
    assertThat(n).isEqualTo(out.size());
    return out.toByteArray();
  }

  static byte[][] randomChunks(Random r, int n, int minSize, int maxSize) {
    byte[][] chunks = new byte[n][];
    for (int i = 0; i < n; i++) {
      chunks[i] = new byte[minSize + r.nextInt(maxSize - minSize + 1)];
      r.nextBytes(chunks[i]);
    }
    return chunks;
  }

  static byte[] concat(byte[][] chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] c : chunks) {
      out.writeBytes(c);
    }
    return out.toByteArray();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
