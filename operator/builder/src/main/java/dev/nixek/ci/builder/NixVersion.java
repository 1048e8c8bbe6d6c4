package dev.nixek.ci.builder;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The version of the Nix that evaluates or builds, asked of the same executable with the same environment
 * ({@code <nix> --version}: {@code nix-instantiate (Nix) 2.26.3}), so the job's and the image's status can say which
 * Nix produced them (provenance).
 */
final class NixVersion {
  /** What the status accepts: a release such as {@code 2.26.3} or {@code 2.27.0pre20250101_abcdef}. */
  static final Pattern VERSION = Pattern.compile("[0-9][0-9A-Za-z.+~_-]{0,63}");
  private static final Pattern OUTPUT = Pattern.compile("\\(Nix\\) (\\S+)\\s*$");

  private NixVersion() {}

  /**
   * The version {@code executable --version} reports, or empty when it cannot be run or says no Nix version. The
   * executable is found as the evaluation finds it: on this process's PATH.
   */
  static Optional<String> of(String executable, Map<String, String> environment) throws InterruptedException {
    return ask(List.of(executable, "--version"), environment);
  }

  /** The version of the {@code nix} a shell command with {@code environment} runs: found on that PATH. */
  static Optional<String> ofShell(Map<String, String> environment) throws InterruptedException {
    return ask(List.of("/bin/sh", "-c", "exec nix --version"), environment);
  }

  private static Optional<String> ask(List<String> command, Map<String, String> environment)
      throws InterruptedException {
    ProcessBuilder pb = ChildEnvironment.apply(new ProcessBuilder(command), environment);
    pb.redirectInput(new File("/dev/null")).redirectErrorStream(true);
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 ? parse(out) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The version in {@code <name> (Nix) <version>}, the first line of {@code --version}. */
  static Optional<String> parse(String output) {
    String first = output.lines().findFirst().orElse("");
    Matcher m = OUTPUT.matcher(first);
    return m.find() && VERSION.matcher(m.group(1)).matches() ? Optional.of(m.group(1)) : Optional.empty();
  }
}
