package dev.nixek.ci.builder;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.TimeUnit;

/**
 * Tests that need Nix call {@link #require()}. On a developer machine without Nix they are skipped; under CI
 * ({@code CI=true}) a missing Nix is a failure, so a broken install can never turn into a green build.
 */
final class NixRequirement {
  /** Probed once per test JVM; "" when Nix works. */
  private static String problem;

  private NixRequirement() {}

  static synchronized void require() {
    if (problem == null) {
      String found = probe();
      problem = found == null ? "" : found;
    }
    if (problem.isEmpty()) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("nix is required under CI=true but " + problem + " (install Debian's nix-bin)");
    }
    assumeTrue(false, "skipped: " + problem + " (install Debian's nix-bin to run this test)");
  }

  private static String probe() {
    for (String tool : new String[] {"nix-build", "nix-store", "nix-instantiate"}) {
      try {
        Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
          return tool + " --version failed";
        }
      } catch (Exception e) {
        return tool + " is not on PATH";
      }
    }
    return null;
  }
}
