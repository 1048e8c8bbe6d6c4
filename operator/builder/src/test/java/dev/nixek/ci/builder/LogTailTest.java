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
}
