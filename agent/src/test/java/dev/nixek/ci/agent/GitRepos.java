package dev.nixek.ci.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real git repositories for checkout tests: bare repositories built by the git on PATH. */
final class GitRepos {
  private GitRepos() {}

  /** Runs git in {@code dir}; returns its trimmed stdout, throws on a non-zero exit. */
  static String git(Path dir, String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("git", "-c", "user.name=test", "-c", "user.email=test@example.com",
        "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"));
    argv.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("git " + String.join(" ", args) + " failed: " + out);
    }
    return out.trim();
  }

  /**
   * A bare repository {@code name}.git under {@code root} with one commit per content of {@code file}, in order;
   * returns the commits, oldest first.
   */
  static List<String> bare(Path root, String name, String file, String... contents)
      throws IOException, InterruptedException {
    Path work = Files.createDirectories(root.resolve(name + "-work"));
    git(work, "init", "-q");
    List<String> commits = new ArrayList<>();
    for (String content : contents) {
      Files.writeString(work.resolve(file), content);
      git(work, "add", file);
      git(work, "commit", "-q", "-m", "content " + content);
      commits.add(git(work, "rev-parse", "HEAD"));
    }
    git(root, "clone", "-q", "--bare", work.toString(), root.resolve(name + ".git").toString());
    return commits;
  }

  /** Adds {@code submoduleUrl} as submodule {@code path} to {@code name}.git and returns the new tip commit. */
  static String addSubmodule(Path root, String name, String submoduleUrl, String path)
      throws IOException, InterruptedException {
    Path work = root.resolve(name + "-work");
    git(work, "submodule", "add", "-q", submoduleUrl, path);
    git(work, "commit", "-q", "-m", "add submodule " + path);
    git(work, "push", "-q", root.resolve(name + ".git").toString(), "HEAD:main");
    return git(work, "rev-parse", "HEAD");
  }
}
