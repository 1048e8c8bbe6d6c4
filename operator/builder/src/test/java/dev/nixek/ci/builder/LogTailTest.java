package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LogTailTest {

  @Test
  void keepsEverythingBelowCapacity() {
    LogTail tail = new LogTail(16);
    tail.append("hello ");
    tail.append("world");
    assertThat(tail.text()).isEqualTo("hello world");
    assertThat(tail.totalBytes()).isEqualTo(11);
  }

  @Test
  void keepsTheLastBytesWhateverTheAppendSizes() {
    Random random = new Random(42);
    LogTail tail = new LogTail(1000);
    byte[] all = new byte[200_000];
    random.nextBytes(all);
    int position = 0;
    while (position < all.length) {
      int n = Math.min(all.length - position, random.nextInt(2500));
      tail.append(all, position, n);
      position += n;
    }
    assertThat(tail.bytes()).isEqualTo(Arrays.copyOfRange(all, all.length - 1000, all.length));
    assertThat(tail.totalBytes()).isEqualTo(all.length);
  }

  @Test
  void oneAppendLargerThanCapacityKeepsItsEnd() {
    LogTail tail = new LogTail(4);
    tail.append("ab");
    tail.append("0123456789");
    assertThat(tail.text()).isEqualTo("6789");
    assertThat(tail.totalBytes()).isEqualTo(12);
  }

  @Test
  void aCutInsideAMultiByteCharacterDropsItsOrphanedBytes() {
    // "€" is 3 bytes; keeping 5 bytes of "€€" cuts the first one after its first byte
    LogTail tail = new LogTail(5);
    tail.append("€€");
    assertThat(tail.text()).isEqualTo("€");
    assertThat(tail.text().getBytes(StandardCharsets.UTF_8)).hasSize(3);
  }

  @Test
  void awaitWritersWaitsForAPumpToReachTheEndOfItsStream() throws Exception {
    LogTail tail = new LogTail(1024);
    java.io.PipedOutputStream build = new java.io.PipedOutputStream();
    java.io.PipedInputStream pipe = new java.io.PipedInputStream(build);
    OutputPump pump = new OutputPump(pipe, java.io.OutputStream.nullOutputStream(), tail);
    // the pump is open from construction: a signal arriving before its thread starts still waits for it
    assertThat(tail.awaitWriters(50)).isFalse();
    build.write("the reason the build failed\n".getBytes(StandardCharsets.UTF_8));
    build.close();
    Thread thread = new Thread(pump);
    thread.start();
    assertThat(tail.awaitWriters(10_000)).isTrue();
    assertThat(tail.text()).isEqualTo("the reason the build failed\n");
    thread.join();
  }

  @Test
  void awaitWritersGivesUpAfterItsTimeoutWhileAStreamStaysOpen() throws Exception {
    LogTail tail = new LogTail(16);
    tail.openWriter();
    long start = System.nanoTime();
    assertThat(tail.awaitWriters(100)).isFalse();
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(100_000_000L);
    tail.closeWriter();
    assertThat(tail.awaitWriters(0)).isTrue();
  }
}
