package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.protocol.ArtifactSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactFinderTest {
  @TempDir
  Path tmp;

  @Test
  void onlyFilesInsideTheWorkingDirectoryAreFoundAndEscapesAreRefused() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret.txt"), "not yours");
    Files.createDirectories(work.resolve("dist/sub"));
    Files.writeString(work.resolve("dist/a.txt"), "a");
    Files.writeString(work.resolve("dist/sub/b.txt"), "b");
    Files.writeString(work.resolve("inside.txt"), "inside");
    Files.createSymbolicLink(work.resolve("dist/link-in.txt"), Path.of("../inside.txt"));
    Files.createSymbolicLink(work.resolve("dist/escape.txt"), outside.resolve("secret.txt"));
    Files.createSymbolicLink(work.resolve("dist/escape-dir"), outside);
    Path spool = Files.createDirectories(work.resolve(".nixek-spool"));
    Files.writeString(spool.resolve("step-0.out"), "output");

    ArtifactFinder finder = new ArtifactFinder(work, spool);
    var dist = finder.find(new ArtifactSpec("dist", List.of("dist/*", "dist/**/*.txt")));
    assertThat(dist.found()).extracting(ArtifactFinder.Found::path)
        .containsExactly("dist/a.txt", "dist/link-in.txt", "dist/sub/b.txt");
    assertThat(dist.found()).filteredOn(f -> f.path().equals("dist/link-in.txt")).singleElement()
        .extracting(ArtifactFinder.Found::file).isEqualTo(work.toRealPath().resolve("inside.txt"));
    assertThat(dist.refused()).extracting(ArtifactFinder.Refused::path)
        .containsExactlyInAnyOrder("dist/escape.txt", "dist/escape-dir");
    assertThat(dist.refused()).filteredOn(r -> r.path().equals("dist/escape.txt")).singleElement()
        .extracting(ArtifactFinder.Refused::reason).asString().contains("symlink escaping the working directory");

    var everything = finder.find(new ArtifactSpec("all", List.of("**")));
    assertThat(everything.found()).extracting(ArtifactFinder.Found::path).doesNotContain(".nixek-spool/step-0.out")
        .noneMatch(p -> p.contains("secret"));

    var bad = finder.find(new ArtifactSpec("bad", List.of("../outside/*", "/etc/hostname")));
    assertThat(bad.found()).isEmpty();
    assertThat(bad.refused()).extracting(ArtifactFinder.Refused::reason)
        .allSatisfy(r -> assertThat(r).startsWith("refused:")).hasSize(2);
  }
}
