package dev.nixek.ci.operator.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Local git repositories for flake jobs: commit what a directory holds and get the revision to pin. */
public final class GitRepos {
  private GitRepos() {}

  /** Commits everything in {@code repo} (initialising it the first time) and returns the commit's hash. */
  public static String commitAll(Path repo) throws Exception {
    if (!repo.resolve(".git").toFile().exists()) {
      git(repo, "init", "-q");
    }
    git(repo, "add", "-A");
    git(repo, "-c", "user.email=test@nixek.dev", "-c", "user.name=test", "commit", "-q", "--allow-empty", "-m", "jobs");
    return git(repo, "rev-parse", "HEAD").strip();
  }

  private static String git(Path dir, String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("git"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", argv) + " failed: " + out);
    }
    return out;
  }
}
