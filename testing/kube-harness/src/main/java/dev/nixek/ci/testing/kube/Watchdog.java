package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops etcd and kube-apiserver when the JVM dies without running its shutdown hooks (SIGKILL): a small shell
 * process that notices the end of its stdin pipe from this JVM.
 */
final class Watchdog {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);

    private Watchdog() {
    }

    /**
     * The watchdog: a shell reading one line from a pipe whose other end only this JVM holds. "exit" ends it;
     * end of input (this JVM died without closing us) makes it stop kube-apiserver, then etcd, and delete the
     * work directory unless it is to be kept.
     */
    /** Starts the watchdog for the two pids (stopped in this order); null when it cannot be started. */
    static Process start(Path workDir, long apiServerPid, long etcdPid, Duration stopGrace, boolean keepWorkDir) {
        try {
            Path script = workDir.resolve("watchdog.sh");
            Files.writeString(script, String.join("\n",
                    "#!/bin/sh",
                    "# Started by KubeApiServer (nixek-kube-harness). Args: pids in stop order.",
                    "IFS= read -r line",
                    "[ \"$line\" = exit ] && exit 0",
                    "alive() { [ -e /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }",
                    "for pid in \"$@\"; do",
                    "  alive \"$pid\" || continue",
                    "  echo \"JVM gone; stopping pid $pid\"",
                    "  kill -TERM \"$pid\" 2>/dev/null",
                    "  i=0",
                    "  while alive \"$pid\"; do",
                    "    i=$((i+1))",
                    "    if [ \"$i\" -gt " + Math.max(stopGrace.toMillis() / 100, 1) + " ]; then kill -KILL \"$pid\" 2>/dev/null; break; fi",
                    "    sleep 0.1",
                    "  done",
                    "done",
                    "[ -n \"$DELETE_DIR\" ] && rm -rf \"$DELETE_DIR\"",
                    "exit 0",
                    ""));
            List<String> cmd = new ArrayList<>();
            if (Processes.SETSID != null) {
                cmd.add(Processes.SETSID.toString());
            }
            cmd.addAll(List.of("/bin/sh", script.toString(),
                    Long.toString(apiServerPid), Long.toString(etcdPid)));
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("watchdog.log").toFile()));
            pb.environment().put("DELETE_DIR", keepWorkDir ? "" : workDir.toString());
            return pb.start();
        } catch (IOException e) {
            LOG.warn("cannot start the watchdog; a JVM killed with SIGKILL will leave etcd/kube-apiserver running", e);
            return null;
        }
    }

    /** Tells the watchdog to end without stopping anything (the servers were stopped in order already). */
    static void stop(Process watchdog) {
        try (OutputStream os = watchdog.getOutputStream()) {
            os.write("exit\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            watchdog.destroy();
        }
        Processes.waitFor(watchdog.toHandle(), Duration.ofSeconds(2));
        if (watchdog.isAlive()) {
            watchdog.destroyForcibly();
        }
    }
}
