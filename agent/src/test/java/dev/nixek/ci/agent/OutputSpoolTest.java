package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputSpoolTest {
  @TempDir
  Path dir;

  private static void append(OutputSpool spool, String text) throws Exception {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    spool.append(b, 0, b.length);
  }

  @Test
  void readsBackWhatWasAppendedAtAnyOffset() throws Exception {
    try (OutputSpool spool = new OutputSpool(dir.resolve("s"))) {
      append(spool, "hello ");
      append(spool, "world");
      assertThat(spool.size()).isEqualTo(11);
      assertThat(new String(spool.read(0, 5), StandardCharsets.UTF_8)).isEqualTo("hello");
      assertThat(new String(spool.read(6, 100), StandardCharsets.UTF_8)).isEqualTo("world");
      assertThat(spool.read(11, 100)).isEmpty();
    }
  }

  @Test
  void sealingFixesTheSize() throws Exception {
    try (OutputSpool spool = new OutputSpool(dir.resolve("s"))) {
      append(spool, "abc");
      spool.seal();
      append(spool, "late");
      assertThat(spool.size()).isEqualTo(3);
      assertThat(spool.isSealed()).isTrue();
    }
  }

  @Test
  void awaitSizeWakesOnDataAndOnSealAndTimesOut() throws Exception {
    try (OutputSpool spool = new OutputSpool(dir.resolve("s"))) {
      CompletableFuture<Long> waiting = CompletableFuture.supplyAsync(() -> {
        try {
          return spool.awaitSize(4, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      append(spool, "abcd");
      assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(4);
      assertThat(spool.awaitSize(100, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50))).isEqualTo(4);
      spool.seal();
      assertThat(spool.awaitSize(100, System.nanoTime() + TimeUnit.SECONDS.toNanos(30))).isEqualTo(4);
    }
  }

  @Test
  void outputSurvivesTheFileBeingDeletedAndIsRemovedOnClose() throws Exception {
    Path file = dir.resolve("s");
    OutputSpool spool = new OutputSpool(file);
    append(spool, "keep me");
    Files.delete(file); // a step that wipes its working directory
    assertThat(new String(spool.read(0, 100), StandardCharsets.UTF_8)).isEqualTo("keep me");
    spool.close();

    OutputSpool second = new OutputSpool(dir.resolve("t"));
    second.close();
    assertThat(dir.resolve("t")).doesNotExist();
  }
}
