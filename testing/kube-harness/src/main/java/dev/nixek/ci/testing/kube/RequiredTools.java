package dev.nixek.ci.testing.kube;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Tools a test needs from the machine, besides the binaries {@link TestBinaries} builds: on a developer machine without
 * them the test is skipped; under CI ({@code CI=true}) a missing tool is a failure, so a broken install can never turn
 * into a green build. Each tool is probed once per test JVM.
 */
public final class RequiredTools {
  /** Tool → "" when it works, else what is wrong. */
  private static final Map<String, String> PROBLEMS = new ConcurrentHashMap<>();

  private RequiredTools() {}

  /** nix-build, nix-store and nix-instantiate (Debian's nix-bin). */
  public static void nix() {
    require("nix", "install Debian's nix-bin", "nix-build", "nix-store", "nix-instantiate");
  }

  private static void require(String tool, String hint, String... commands) {
    String problem = PROBLEMS.computeIfAbsent(tool, t -> probe(commands));
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
