package dev.nixek.ci.testing.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One pod's run (by uid): its host directory and log, its process, and what was asked of it meanwhile. */
final class PodRun {

    private static final Logger LOG = LoggerFactory.getLogger(PodRun.class);

    final String namespace;
    final String name;
    final String uid;
    final String key;
    final Path dir;
    final Path logFile;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile Process process;
    volatile boolean stopRequested;
    /** The pod got a deletionTimestamp: kill, then delete it for good. */
    volatile boolean deletionRequested;
    /** The pod is gone from the API: no more writes. */
    volatile boolean gone;
    volatile boolean closing;
    volatile boolean bound;

    PodRun(Pod pod, Path workDir) {
        this.namespace = pod.getMetadata().getNamespace();
        this.name = pod.getMetadata().getName();
        this.uid = pod.getMetadata().getUid();
        this.key = namespace + "/" + name;
        this.dir = workDir.resolve(namespace + "_" + name + "_" + uid.substring(0, Math.min(8, uid.length())));
        this.logFile = dir.resolve(containerName(pod) + ".log");
    }

    synchronized void requestStop(Duration grace) {
        if (stopRequested) {
            return;
        }
        stopRequested = true;
        Process p = process;
        if (p != null && p.isAlive()) {
            LOG.info("pod {}: stopping pid {} (grace {} ms)", key, p.pid(), grace.toMillis());
            CompletableFuture.runAsync(() -> Processes.stopTree(p.toHandle(), Processes.ownGroup(), grace));
        }
    }

    /** Starts the process unless a stop was requested; returns null then. */
    synchronized Process start(List<String> cmd, Path cwd, Map<String, String> env) throws IOException {
        if (stopRequested) {
            return null;
        }
        process = Processes.startDetached(cmd, cwd, env, logFile);
        return process;
    }

    static String containerName(Pod pod) {
        List<Container> cs = pod.getSpec().getContainers();
        return cs == null || cs.isEmpty() ? "container" : cs.get(0).getName();
    }
}
