package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A git configuration that lets pods run as the image's user read the tests' repositories, which root owns: git and
 * libgit2 (Nix 2.26 reads flakes with it) refuse a repository of another owner unless {@code safe.directory} says
 * otherwise. The git command reads {@code GIT_CONFIG_GLOBAL}; libgit2 does not, but reads
 * {@code $XDG_CONFIG_HOME/git/config}: both are set.
 */
public final class PodGitConfig {
  private PodGitConfig() {}

  /** The environment to give pods; the files are written under {@code dir} (which pods must be able to pass). */
  public static Map<String, String> trustingAll(Path dir) {
    try {
      Path xdg = Files.createDirectories(dir.resolve("pods-xdg-config"));
      Path config = Files.writeString(Files.createDirectories(xdg.resolve("git")).resolve("config"),
          "[safe]\n\tdirectory = *\n");
      return Map.of("GIT_CONFIG_GLOBAL", config.toString(), "XDG_CONFIG_HOME", xdg.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
