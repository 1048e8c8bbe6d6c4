package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NixVersionTest {
  @Test
  void thePinIsTheNixVersionLineOfThePinFile() {
    assertThat(NixVersion.parsePin("# comment\nNIX_VERSION=2.26.3\nNIX_DEB_VERSION=2.26.3+dfsg-1\n"))
        .contains("2.26.3");
    assertThat(NixVersion.parsePin("NIX_DEB_VERSION=2.26.3+dfsg-1\n")).isEmpty();
    assertThat(NixVersion.parsePin("NIX_VERSION=\n")).isEmpty();
  }

  @Test
  void theRepositoryPinsOneVersion() {
    assertThat(NixVersion.pinned()).matches("\\d+\\.\\d+\\.\\d+");
  }

  @Test
  void anotherVersionOnPathIsAProblemThatNamesIt(@TempDir Path dir) throws Exception {
    Path old = fakeNix(dir.resolve("old"), "nix (Nix) 2.8.0");
    assertThat(NixVersion.problem(old.toString(), "2.26.3"))
        .isEqualTo(old + " is 'nix (Nix) 2.8.0', not the image's 2.26.3");
    Path same = fakeNix(dir.resolve("same"), "nix (Nix) 2.26.3");
    assertThat(NixVersion.problem(same.toString(), "2.26.3")).isEmpty();
    assertThat(NixVersion.problem(dir.resolve("none").toString(), "2.26.3")).endsWith("none is not on PATH");
  }

  private static Path fakeNix(Path file, String says) throws Exception {
    Files.writeString(file, "#!/bin/sh\necho '" + says + "'\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file;
  }
}
