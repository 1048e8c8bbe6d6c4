package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real nix-store is exercised by NixBuildIT; these stand-ins pin the parsing of its answers. */
class DeriverQueryTest {
  @TempDir
  Path dir;

  private String standIn(String script) throws Exception {
    Path file = dir.resolve("nix-store-" + System.nanoTime());
    Files.writeString(file, "#!/bin/sh\n" + script + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file.toString();
  }

  @Test
  void takesTheDrvLineAfterWarnings() throws Exception {
    String nixStore = standIn("echo 'warning: something'; echo /nix/store/abc-image.drv");
    assertThat(new DeriverQuery(nixStore).deriverOf(Path.of("/nix/store/def-image")))
        .isEqualTo("/nix/store/abc-image.drv");
  }

  @Test
  void unknownDeriverOrFailureIsABuildFailure() throws Exception {
    assertThatThrownBy(() -> new DeriverQuery(standIn("echo unknown-deriver")).deriverOf(Path.of("/nix/store/x")))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.BUILD_FAILED))
        .hasMessageContaining("cannot find the drvPath").hasMessageContaining("unknown-deriver");
    assertThatThrownBy(() -> new DeriverQuery(standIn("echo /nix/store/a.drv; echo oops >&2; exit 1"))
        .deriverOf(Path.of("/nix/store/x"))).hasMessageContaining("exit 1").hasMessageContaining("oops");
  }

  @Test
  void withoutNixStoreTheErrorPointsToTheDrvPathOption() {
    assertThatThrownBy(() -> new DeriverQuery("/nonexistent/nix-store").deriverOf(Path.of("/nix/store/x")))
        .isInstanceOf(BuilderException.class).hasMessageContaining("--drv-path");
  }
}
