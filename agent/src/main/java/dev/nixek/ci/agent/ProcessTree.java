package dev.nixek.ci.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills a step and everything it started: SIGTERM to the descendants first, then the step's own process, and
 * SIGKILL to whatever is still alive after a grace period.
 *
 * <p>Parent links alone miss processes that were orphaned (a double fork, or a background child whose shell
 * already exited: they now belong to init), so each step also runs with a marker variable {@link #MARKER} in its
 * environment, which children inherit; on Linux every process whose initial environment carries a matching marker
 * is killed too (the trick Jenkins' ProcessTreeKiller uses). A process that clears its environment and detaches
 * escapes; on a job VM the poweroff ends it.
 */
final class ProcessTree {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessTree.class);
  /** Set in every step's environment: {@code <run id>-<step index>}. */
  static final String MARKER = "NIXEK_CI_STEP";
  private static final Path PROC = Path.of("/proc");
  private static final Duration AFTER_SIGKILL = Duration.ofSeconds(2);

  private ProcessTree() {}

  /**
   * Kills {@code root} (if given), its descendants, and every process whose marker value satisfies
   * {@code marker}. Returns how many processes were signalled.
   */
  static int kill(Optional<ProcessHandle> root, Predicate<String> marker, Duration grace) throws InterruptedException {
    Set<ProcessHandle> targets = collect(root, marker);
    if (targets.isEmpty()) {
      return 0;
    }
    // descendants first: a shell that sees its children die may otherwise start the next command
    targets.stream().filter(p -> root.isEmpty() || !p.equals(root.get())).forEach(ProcessHandle::destroy);
    root.ifPresent(ProcessHandle::destroy);
    awaitGone(targets, grace);

    // whatever ignored SIGTERM, and anything forked while the tree was dying
    targets.addAll(collect(root, marker));
    Set<ProcessHandle> survivors = new LinkedHashSet<>();
    for (ProcessHandle p : targets) {
      if (!isGone(p)) {
        survivors.add(p);
        p.destroyForcibly();
      }
    }
    if (!survivors.isEmpty()) {
      LOG.info("{} process(es) ignored SIGTERM for {} s and got SIGKILL", survivors.size(), grace.toSeconds());
      if (!awaitGone(survivors, AFTER_SIGKILL)) {
        LOG.warn("processes survived SIGKILL: {}", survivors.stream().filter(p -> !isGone(p)).map(ProcessHandle::pid)
            .toList());
      }
    }
    return targets.size();
  }

  private static Set<ProcessHandle> collect(Optional<ProcessHandle> root, Predicate<String> marker) {
    Set<ProcessHandle> found = new LinkedHashSet<>();
    root.ifPresent(r -> {
      r.descendants().forEach(found::add);
      if (r.isAlive()) {
        found.add(r);
      }
    });
    long self = ProcessHandle.current().pid();
    for (long pid : markedPids(marker)) {
      if (pid != self) {
        ProcessHandle.of(pid).ifPresent(p -> {
          found.add(p);
          p.descendants().forEach(found::add);
        });
      }
    }
    found.removeIf(ProcessTree::isGone);
    return found;
  }

  /** Pids whose initial environment holds {@link #MARKER} with a value {@code marker} accepts (Linux only). */
  static Set<Long> markedPids(Predicate<String> marker) {
    Set<Long> pids = new LinkedHashSet<>();
    if (!Files.isDirectory(PROC)) {
      return pids;
    }
    byte[] prefix = (MARKER + "=").getBytes(StandardCharsets.US_ASCII);
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path dir : dirs) {
        byte[] env;
        try {
          env = Files.readAllBytes(dir.resolve("environ"));
        } catch (IOException | SecurityException e) {
          continue; // gone, or not ours to read (and so not ours to kill)
        }
        String value = markerValue(env, prefix);
        if (value != null && marker.test(value)) {
          pids.add(Long.parseLong(dir.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      LOG.debug("cannot list /proc: {}", e.toString());
    }
    return pids;
  }

  private static String markerValue(byte[] env, byte[] prefix) {
    int start = 0;
    for (int i = 0; i <= env.length; i++) {
      if (i == env.length || env[i] == 0) {
        if (i - start >= prefix.length && regionEquals(env, start, prefix)) {
          return new String(env, start + prefix.length, i - start - prefix.length, StandardCharsets.UTF_8);
        }
        start = i + 1;
      }
    }
    return null;
  }

  private static boolean regionEquals(byte[] env, int start, byte[] prefix) {
    for (int j = 0; j < prefix.length; j++) {
      if (env[start + j] != prefix[j]) {
        return false;
      }
    }
    return true;
  }

  private static boolean awaitGone(Set<ProcessHandle> processes, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (processes.stream().allMatch(ProcessTree::isGone)) {
        return true;
      }
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(20);
    }
  }

  /**
   * Dead or a zombie. Orphans are reaped by init, and where init does not reap (some containers) a killed orphan
   * stays a zombie forever; {@link ProcessHandle#isAlive()} still calls that alive.
   */
  static boolean isGone(ProcessHandle p) {
    if (!p.isAlive()) {
      return true;
    }
    try {
      String stat = Files.readString(PROC.resolve(Long.toString(p.pid())).resolve("stat"));
      int close = stat.lastIndexOf(')');
      return close > 0 && close + 2 < stat.length() && (stat.charAt(close + 2) == 'Z' || stat.charAt(close + 2) == 'X');
    } catch (IOException e) {
      return !p.isAlive();
    }
  }
}
