package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on a temp directory, plus what only the local store promises: file modes, crash leftovers. */
class LocalLogStoreTest extends LogStoreContract {
  @TempDir
  Path dir;

  @Override
  protected LogStore openStore() throws IOException {
    return new LocalLogStore(dir.resolve("logs"));
  }

  @Override
  protected long storedEntries() throws IOException {
    Path root = dir.resolve("logs");
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> !p.equals(root)).count();
    }
  }

  @Test
  void directoriesAre0700AndFiles0600() throws IOException {
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("secret output")});
    putAll(s, STEP.job().step(1), new byte[][] {bytes("more")});
    s.seal(STEP.job().step(1));
    List<Path> all;
    try (Stream<Path> w = Files.walk(dir.resolve("logs"))) {
      all = w.toList();
    }
    assertThat(all).hasSizeGreaterThan(8);
    for (Path p : all) {
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
      assertThat(mode).as("%s", p).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
    }
  }

  @Test
  void aHalfWrittenTempFileFromACrashIsIgnoredAndSealedAway() throws IOException {
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("whole\n")});
    Path chunks = dir.resolve("logs/team-a/build.main/" + STEP.jobUid() + "/steps/0/unsealed");
    Files.write(chunks.resolve(".tmp-crashed"), new byte[] {1, 2, 3});

    assertThat(s.state(STEP)).isEqualTo(new StoredLog(1, 6, false));
    assertThat(readAll(s, STEP)).isEqualTo(bytes("whole\n"));
    s.put(STEP, 1, 6, bytes("next\n"));
    s.seal(STEP);
    assertThat(readAll(s, STEP)).isEqualTo(bytes("whole\nnext\n"));
    assertThat(chunks).doesNotExist();
  }

  @Test
  void aChunkStoredWithOtherBytesIsNotOverwritten() throws IOException {
    LogStore s = store();
    s.put(STEP, 0, 0, bytes("first"));
    assertThatThrownBy(() -> s.put(STEP, 0, 0, bytes("other"))).isInstanceOf(IOException.class)
        .hasMessageContaining("is stored as");
    assertThat(readAll(s, STEP)).isEqualTo(bytes("first"));
  }

  @Test
  void sealingRefusesChunksWhoseOffsetsDoNotFollowOn() throws IOException {
    LogStore s = store();
    s.put(STEP, 0, 0, bytes("abc"));
    s.put(STEP, 1, 5, bytes("def"));
    assertThatThrownBy(() -> s.seal(STEP)).isInstanceOf(IOException.class).hasMessageContaining("expected offset 3");
    assertThat(s.state(STEP).sealed()).isFalse();
  }

  @Test
  void emptyNameAndNamespaceDirectoriesGoWithTheLastJob() throws IOException {
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("x")});
    s.delete(STEP.job());
    assertThat(dir.resolve("logs")).isEmptyDirectory();
  }
}
