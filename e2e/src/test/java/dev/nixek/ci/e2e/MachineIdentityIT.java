package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A job's machine identity depends on the sources only (hack/machine-identity.sh): two clean copies of the repository
 * build byte-identical agent jars, and the seed job's machine, evaluated in each with its own jar (real nix, the stub
 * nixpkgs), has one drvPath; another jar gives another. The builds are offline, against the local repository this
 * build uses.
 */
class MachineIdentityIT {
  @Test
  void twoCleanCopiesGiveOneAgentJarAndOneMachineDrvPath() throws IOException, InterruptedException {
    RequiredTools.nix();
    Path home = ManifestsIT.HOME;
    ProcessBuilder pb = new ProcessBuilder("bash", home.resolve("hack/machine-identity.sh").toString())
        .directory(home.toFile()).redirectErrorStream(true);
    String mavenHome = System.getProperty("nixek.maven.home", "");
    if (!mavenHome.isBlank()) {
      pb.environment().put("MVN", Path.of(mavenHome, "bin", "mvn").toString());
    }
    String localRepository = System.getProperty("nixek.maven.repo", "");
    if (!localRepository.isBlank()) {
      pb.environment().put("MAVEN_REPO", localRepository);
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(600, TimeUnit.SECONDS)).isTrue();
    System.out.println(out);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("PASS two clean builds give a byte-identical agent jar")
        .contains("PASS the seed job's machine has one drvPath from two clean copies")
        .contains("PASS a changed agent jar gives another drvPath")
        .containsPattern("(?m)^4 passed, 0 failed$");
  }
}
