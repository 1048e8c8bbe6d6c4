package dev.nixek.ci.testing.kube;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Tools a test needs from the machine, besides the binaries {@link TestBinaries} builds: on a developer machine without
 * them the test is skipped; under CI ({@code CI=true}) a missing tool is a failure, so a broken install can never turn
 * into a green build. Each tool is probed once per test JVM. A tool of the wrong version counts as missing.
 */
public final class RequiredTools {
  /** Tool → "" when it works, else what is wrong. */
  private static final Map<String, String> PROBLEMS = new ConcurrentHashMap<>();

  private RequiredTools() {}

  /**
   * nix, nix-build, nix-store and nix-instantiate of the image's Nix version ({@link NixVersion#pinned()}): the
   * evaluation tiers prove what the image's Nix does, so another version on PATH counts as missing.
   */
  public static void nix() {
    require("nix", "put the output of hack/current-nix.sh first on PATH, as test.sh does",
        () -> probe("nix", "nix-build", "nix-store", "nix-instantiate").transform(p -> p.isEmpty()
            ? NixVersion.problem() : p));
  }

  private static void require(String tool, String hint, Supplier<String> check) {
    String problem = PROBLEMS.computeIfAbsent(tool, t -> check.get());
    if (problem.isEmpty()) {
      return;
    }
    if (TestBinaries.isCi()) {
      fail(tool + " is required under CI=true but " + problem + " (" + hint + ")");
    }
    assumeTrue(false, "skipped: " + problem + " (" + hint + " to run this test)");
  }

  private static String probe(String... commands) {
    for (String command : commands) {
      try {
        Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
          return command + " --version failed";
        }
      } catch (IOException e) {
        return command + " is not on PATH";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }
    return "";
  }
}
