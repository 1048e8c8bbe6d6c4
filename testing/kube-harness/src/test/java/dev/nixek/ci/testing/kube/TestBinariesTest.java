package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wait for test.sh's background tool build. */
class TestBinariesTest {

  @TempDir Path dir;

  @Test
  void withoutAStatusFileNothingWaits() {
    assertThat(TestBinaries.awaitToolBuild(null, Duration.ofMinutes(5))).isEmpty();
    assertThat(TestBinaries.awaitToolBuild(dir.resolve("absent").toString(), Duration.ofMinutes(5))).isEmpty();
  }

  @Test
  void waitsWhileBuildingAndReturnsTheOutcome() throws Exception {
    Path status = dir.resolve("status");
    Files.writeString(status, "building\n");
    CompletableFuture<String> waited = CompletableFuture.supplyAsync(
        () -> TestBinaries.awaitToolBuild(status.toString(), Duration.ofMinutes(1)));
    Thread.sleep(2500);
    assertThat(waited).isNotDone();
    Files.writeString(status, "failed: build-promtool.sh\n");
    assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo("failed: build-promtool.sh");
  }

  @Test
  void givesUpAtTheLimit() throws Exception {
    Path status = dir.resolve("status");
    Files.writeString(status, "building");
    assertThat(TestBinaries.awaitToolBuild(status.toString(), Duration.ofMillis(100))).isEqualTo("building");
  }
}
