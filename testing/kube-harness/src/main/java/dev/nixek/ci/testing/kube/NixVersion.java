package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Nix version the image ships and the tests must run: {@code NIX_VERSION} in {@code hack/nix-version}, the one
 * place it is pinned (hack/current-nix.sh installs it, the Dockerfile installs it, test.sh puts it on PATH).
 */
public final class NixVersion {
  /** The pin file, relative to the repository root. */
  public static final String PIN_FILE = "hack/nix-version";
  private static final Pattern PIN = Pattern.compile("(?m)^NIX_VERSION=([0-9][0-9A-Za-z.+~_-]*)\\s*$");

  private NixVersion() {}

  /** The pinned version, from {@value #PIN_FILE} at or above the working directory. */
  public static String pinned() {
    Path file = TestBinaries.repoRoot().map(r -> r.resolve(PIN_FILE))
        .orElseThrow(() -> new IllegalStateException("no repository root (with " + TestBinaries.BUILD_SCRIPT
            + ") at or above " + Path.of("").toAbsolutePath()));
    try {
      return parsePin(Files.readString(file, StandardCharsets.UTF_8))
          .orElseThrow(() -> new IllegalStateException(file + " has no NIX_VERSION=<version> line"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static Optional<String> parsePin(String text) {
    Matcher m = PIN.matcher(text);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** "" when {@code nix --version} on PATH is the pinned version, else what it is instead. */
  public static String problem() {
    return problem("nix", pinned());
  }

  static String problem(String nix, String pinned) {
    try {
      Process p = new ProcessBuilder(List.of(nix, "--version")).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return nix + " --version failed: " + out;
      }
      return out.equals("nix (Nix) " + pinned) ? "" : nix + " is '" + out + "', not the image's " + pinned;
    } catch (IOException e) {
      return nix + " is not on PATH";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
