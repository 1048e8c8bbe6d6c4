package dev.nixek.ci.testing.kube;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Process helpers: start in an own session, stop by pid (SIGTERM, SIGKILL after a grace), run to completion. */
final class Processes {

    private static final Logger LOG = LoggerFactory.getLogger(Processes.class);
    private static final File DEV_NULL = new File("/dev/null");

    /** setsid(1), if installed: puts a child in its own session and process group (and keeps its pid). */
    static final Path SETSID = findSetsid();

    private Processes() {
    }

    private static Path findSetsid() {
        for (String candidate : List.of("/usr/bin/setsid", "/bin/setsid")) {
            Path p = Path.of(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return TestBinaries.onPath("setsid").orElse(null);
    }

    /**
     * Starts {@code command} in its own session (so a Ctrl-C at the terminal reaches the JVM only, which then
     * stops things in the right order), stdin from /dev/null, stdout and stderr appended to {@code log}.
     *
     * @param env if not null, the complete environment of the child
     */
    static Process startDetached(List<String> command, Path dir, Map<String, String> env, Path log)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (SETSID != null) {
            cmd.add(SETSID.toString());
        }
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        if (env != null) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        return pb.start();
    }

    /** Whether a process started by {@link #startDetached} leads its own process group. */
    static boolean ownGroup() {
        return SETSID != null;
    }

    /**
     * Stops one process by pid: SIGTERM, then SIGKILL when it is still alive after {@code grace}.
     *
     * @return true if it is gone
     */
    static boolean stop(ProcessHandle process, Duration grace) {
        if (!process.isAlive()) {
            return true;
        }
        process.destroy();
        if (waitFor(process, grace)) {
            return true;
        }
        LOG.warn("pid {} ignored SIGTERM for {} ms; SIGKILL", process.pid(), grace.toMillis());
        process.destroyForcibly();
        return waitFor(process, Duration.ofSeconds(10));
    }

    /**
     * Stops a process and everything it started: SIGTERM to its process group (when it has its own) and to
     * each descendant, SIGKILL to whatever is left after {@code grace}.
     *
     * @return true if all of them are gone
     */
    static boolean stopTree(ProcessHandle root, boolean ownGroup, Duration grace) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(root);
        root.descendants().forEach(all::add);
        if (ownGroup) {
            signalGroup(root.pid(), "TERM");
        }
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        if (waitAll(all, deadline)) {
            return true;
        }
        // whatever started in between is in the group, or a descendant of a survivor
        root.descendants().forEach(p -> {
            if (!all.contains(p)) {
                all.add(p);
            }
        });
        if (ownGroup) {
            signalGroup(root.pid(), "KILL");
        }
        all.forEach(ProcessHandle::destroyForcibly);
        return waitAll(all, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
    }

    private static boolean waitAll(List<ProcessHandle> all, long deadlineNanos) {
        for (ProcessHandle p : all) {
            long left = deadlineNanos - System.nanoTime();
            if (!waitFor(p, Duration.ofNanos(Math.max(left, 0)))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until the process is gone. Polls {@link ProcessHandle#isAlive()} (a zombie counts as gone): the
     * JDK's {@code onExit()} of a process that is not our child polls with a back-off of up to seconds.
     */
    static boolean waitFor(ProcessHandle p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleep = 5;
        while (!isGone(p)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return isGone(p);
            }
            sleep = Math.min(sleep * 2, 50);
        }
        return true;
    }

    /**
     * True when the process has exited: not alive, or a zombie. An orphaned zombie waits for init to reap
     * it, which can take seconds in a container, and {@link ProcessHandle#isAlive()} reports it alive.
     */
    static boolean isGone(ProcessHandle p) {
        if (!p.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z';
        } catch (IOException | RuntimeException e) {
            return !p.isAlive();
        }
    }

    private static void signalGroup(long pgid, String signal) {
        Path kill = Files.isExecutable(Path.of("/usr/bin/kill")) ? Path.of("/usr/bin/kill")
                : Files.isExecutable(Path.of("/bin/kill")) ? Path.of("/bin/kill") : null;
        if (kill == null) {
            return;
        }
        try {
            Process p = new ProcessBuilder(kill.toString(), "-s", signal, "--", "-" + pgid)
                    .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            LOG.debug("kill -{} -{} failed", signal, pgid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs a command to completion, capturing stdout and stderr; kills it (exit code -1) after {@code timeout}.
     */
    static CommandResult run(List<String> command, Map<String, String> extraEnv, String stdin, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (extraEnv != null) {
            pb.environment().putAll(extraEnv);
        }
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new CommandResult(command, 127, "", "cannot start: " + e.getMessage());
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try {
            if (stdin != null) {
                try (var os = p.getOutputStream()) {
                    os.write(stdin.getBytes(StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // the command did not read its input; its exit code tells
                }
            }
            int exit;
            if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                exit = p.exitValue();
            } else {
                stopTree(p.toHandle(), false, Duration.ofSeconds(2));
                exit = -1;
            }
            String e = err.get(10, TimeUnit.SECONDS);
            if (exit == -1) {
                e = e + "\n(killed after " + timeout.toMillis() + " ms)";
            }
            return new CommandResult(command, exit, out.get(10, TimeUnit.SECONDS), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted while running " + command, e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot read the output of " + command, e);
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last {@code maxLines} lines of a file, at most {@code maxBytes} bytes (the end is kept). */
    static String tail(Path file, int maxLines, int maxBytes) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            byte[] all;
            long size = Files.size(file);
            try (var ch = Files.newByteChannel(file)) {
                long from = Math.max(0, size - maxBytes);
                ch.position(from);
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - from));
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // fill
                }
                all = java.util.Arrays.copyOf(buf.array(), buf.position());
            }
            String s = new String(all, StandardCharsets.UTF_8);
            String[] lines = s.split("\n", -1);
            int end = lines.length;
            if (end > 0 && lines[end - 1].isEmpty()) {
                end--; // a trailing newline ends the last line, it does not start a new one
            }
            int start = Math.max(0, end - maxLines);
            StringBuilder sb = new StringBuilder();
            for (int i = start; i < end; i++) {
                sb.append(lines[i]).append('\n');
            }
            return sb.toString();
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /** Deletes a directory tree, ignoring failures. */
    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.debug("cannot delete {}", dir, e);
        }
    }
}
