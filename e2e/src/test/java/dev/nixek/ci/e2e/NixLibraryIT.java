package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The nix library's offline suite (nix/tests/run.sh) with real nix (the image's version): job evaluation, the error
 * table, machine identities, the agent's NixOS module. Run here so that it counts with the other tiers.
 */
class NixLibraryIT {
  @Test
  void theNixSuitePasses() throws IOException, InterruptedException {
    RequiredTools.nix();
    Path home = ManifestsIT.HOME;
    Process p = new ProcessBuilder("bash", home.resolve("nix/tests/run.sh").toString())
        .directory(home.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(600, TimeUnit.SECONDS)).isTrue();
    System.out.println(out.lines().filter(l -> l.contains("passed") || l.startsWith("FAIL")).reduce("", (a, b) -> a + b + "\n"));
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).containsPattern("\\d+ passed, 0 failed");
    if ("true".equals(System.getenv("CI"))) {
      assertThat(out).as("under CI=true every nix case runs (nftables, the agent jar)").contains(", 0 skipped");
    }
  }
}
