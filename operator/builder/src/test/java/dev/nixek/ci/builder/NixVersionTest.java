package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NixVersionTest {
  @Test
  void theVersionIsWhatFollowsNixInTheFirstLine() {
    assertThat(NixVersion.parse("nix-instantiate (Nix) 2.26.3\n")).contains("2.26.3");
    assertThat(NixVersion.parse("nix (Nix) 2.8.0\nSystem type: x86_64-linux\n")).contains("2.8.0");
    assertThat(NixVersion.parse("nix (Nix) 2.27.0pre20250101_abcdef12")).contains("2.27.0pre20250101_abcdef12");
  }

  @Test
  void anythingElseIsNoVersion() {
    assertThat(NixVersion.parse("")).isEmpty();
    assertThat(NixVersion.parse("bash: nix: command not found")).isEmpty();
    assertThat(NixVersion.parse("nix (Nix) \"; rm -rf /")).isEmpty();
    assertThat(NixVersion.parse("nix (Nix) " + "1".repeat(65))).isEmpty();
  }

  @Test
  void itAsksTheExecutableWithTheGivenEnvironment(@TempDir Path dir) throws Exception {
    Path fake = dir.resolve("nix");
    Files.writeString(fake, "#!/bin/sh\n[ -z \"$AWS_SECRET_ACCESS_KEY\" ] && echo \"nix (Nix) $FAKE_VERSION\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    assertThat(NixVersion.of(fake.toString(), Map.of("FAKE_VERSION", "2.26.3", "AWS_SECRET_ACCESS_KEY", "s")))
        .contains("2.26.3");
    Path failing = dir.resolve("failing");
    Files.writeString(failing, "#!/bin/sh\necho 'nix (Nix) 2.26.3'; exit 1\n");
    Files.setPosixFilePermissions(failing, PosixFilePermissions.fromString("rwx------"));
    assertThat(NixVersion.of(failing.toString(), Map.of())).isEmpty();
    assertThat(NixVersion.of(dir.resolve("missing").toString(), Map.of())).isEmpty();
  }

  @Test
  void aShellFindsNixOnTheGivenPath(@TempDir Path dir) throws Exception {
    Path fake = dir.resolve("nix");
    Files.writeString(fake, "#!/bin/sh\necho 'nix (Nix) 9.9.9'\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    assertThat(NixVersion.ofShell(Map.of("PATH", dir + ":/usr/bin:/bin"))).contains("9.9.9");
    assertThat(NixVersion.ofShell(Map.of("PATH", dir.resolve("empty").toString()))).isEmpty();
  }
}
