package dev.nixek.ci.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs steps as an unprivileged user (docs/security.md#what-a-job-can-and-cannot-reach) while the agent keeps its own privileges (it must kill steps and
 * read the config). The wrapper is util-linux {@code setpriv}, on NixOS and Debian alike: it only changes
 * credentials and execs, so the step's process is the command itself (no PAM session, no extra parent like
 * {@code runuser} or {@code sudo} would add).
 *
 * <p>The primary group is passed numerically because {@code --regid=<user>} means a group of that name, which
 * often does not exist ({@code nobody} is in {@code nogroup}); without {@code --regid} the step would keep gid 0.
 * {@code --reset-env} is deliberately not used: it would drop the step's {@code env}. The environment is built by
 * the agent instead, with HOME, USER and LOGNAME of the target user.
 */
record RunAs(String user, long uid, long gid, String home) {

  /** Looks the user up through NSS ({@code getent passwd}), which also sees users that are not in /etc/passwd. */
  static RunAs resolve(String user) throws UsageException, InterruptedException {
    if (!user.matches("[A-Za-z0-9._][A-Za-z0-9._-]*")) {
      throw new UsageException("--run-as: not a user name: " + user);
    }
    String line;
    try {
      Process p = new ProcessBuilder("getent", "passwd", user).redirectErrorStream(true).start();
      line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new UsageException("--run-as: no such user: " + user);
      }
    } catch (IOException e) {
      throw new UsageException("--run-as: cannot look up " + user + " (getent: " + e.getMessage() + ")");
    }
    String[] f = line.split(":", -1);
    if (f.length < 7) {
      throw new UsageException("--run-as: unexpected passwd entry for " + user);
    }
    long uid = Long.parseLong(f[2]);
    if (uid == 0) {
      throw new UsageException("--run-as: " + user + " is root; steps must run unprivileged");
    }
    return new RunAs(f[0], uid, Long.parseLong(f[3]), f[5]);
  }

  List<String> wrap(List<String> argv) {
    List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
        "--"));
    wrapped.addAll(argv);
    return wrapped;
  }

  void applyEnv(Map<String, String> env) {
    env.put("HOME", home);
    env.put("USER", user);
    env.put("LOGNAME", user);
  }

  /** Gives the user a directory the agent created for it (the default temporary work dir). */
  void own(Path dir) throws IOException {
    Files.setAttribute(dir, "unix:uid", (int) uid);
    Files.setAttribute(dir, "unix:gid", (int) gid);
  }
}
