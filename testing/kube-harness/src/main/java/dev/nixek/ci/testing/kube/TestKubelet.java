package dev.nixek.ci.testing.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stand-in kubelet for a test apiserver without nodes: runs pods' first container as a local process.
 *
 * <p>It watches pods (one namespace or all) and takes on every Pending pod that is not bound to another node:
 * it binds the pod to its node name through the {@code binding} subresource (like a scheduler; a pod some
 * other kubelet bound first is left alone), materializes the volumes in a per-pod temporary directory, and
 * runs the first container's {@code command} + {@code args} on the host (the image is ignored: the command
 * must exist here). Container paths (volume mountPaths, workingDir, terminationMessagePath) are rewritten to
 * their host locations in command, args and env values ({@link PathRewriter}). Pod status is written like a
 * kubelet does, through {@code /status} with the resourceVersion read (a 409 means: read again, apply again).
 *
 * <p>Supported: env ({@code value}, {@code valueFrom} secretKeyRef / configMapKeyRef / fieldRef), envFrom,
 * {@code $(VAR)} expansion; volumes emptyDir, configMap, secret, downwardAPI, projected (configMap, secret,
 * downwardAPI, serviceAccountToken) and hostPath, with items, modes and subPath; missing (non-optional)
 * ConfigMaps/Secrets keep the pod Pending until they appear; termination message from the file (first 4096
 * bytes) or, with {@code FallbackToLogsOnError}, from the end of the output (80 lines, 2 KiB); graceful
 * deletion (SIGTERM to the process group, SIGKILL after the grace period capped by
 * {@link Builder#maxGracePeriod}, then the final delete with grace 0). Not supported: further containers,
 * init containers, restarts (every pod runs once, whatever its restartPolicy), probes, resource limits,
 * other volume types (the pod fails with reason {@code TestKubeletUnsupported}). A volume mounted at one of
 * {@link #IN_PLACE_PATHS} ({@code /nix}) is bind-mounted there instead of being rewritten.
 *
 * <p>Security, as a kubelet enforces it (when the test kubelet runs as root): the process runs as the pod's
 * {@code runAsUser}/{@code runAsGroup} with {@code fsGroup} and {@code supplementalGroups} as its groups, without new
 * privileges and with the dropped capabilities gone ({@link PodSecurity}); {@code runAsNonRoot} that cannot be proven
 * leaves the pod Pending with {@code CreateContainerConfigError}; volumes are owned and moded as a kubelet leaves
 * them ({@link VolumeOwnership}); secret/configMap/downwardAPI/projected volumes and {@code readOnly} mounts are
 * read-only bind mounts in the process's own mount namespace ({@link ContainerSandbox}). A pod run as another user
 * gets its own HOME (the host's is not its) and a USER name. Not enforced: seccomp profiles, SELinux/AppArmor,
 * {@code readOnlyRootFilesystem} (the host's root is the container's), resource limits, and the network.
 *
 * <p>This class watches pods and answers queries; {@link PodRunner} runs one pod, with {@link PodPreparation}
 * (environment, command), {@link PodVolumes}, {@link PodSources}, {@link DownwardApi} and {@link PodStatusWriter}.
 */
public final class TestKubelet implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TestKubelet.class);
    static final String LOCALHOST = "127.0.0.1";
    /** Kubernetes' limits for the termination message. */
    static final int MAX_MESSAGE_BYTES = 4096;
    static final int FALLBACK_LOG_LINES = 80;
    static final int FALLBACK_LOG_BYTES = 2048;
    private static final AtomicInteger THREADS = new AtomicInteger();
    /**
     * Mount paths that are not rewritten: a volume mounted there is bind-mounted at that very path in the process's
     * own mount namespace. {@code /nix}: builder and evaluation pods mount a writable emptyDir for the Nix store
     * there, and store paths in their arguments and output must keep meaning {@code /nix/store}. So each such pod
     * has its own, empty store owned as the kubelet leaves an emptyDir, as in a cluster — not the host's. (A test
     * kubelet that is not root cannot make mount namespaces: there the host's path stands in.)
     */
    static final Set<String> IN_PLACE_PATHS = Set.of("/nix");

    /** Called just before a pod's process starts; see {@link PodLaunch}. */
    @FunctionalInterface
    public interface StartHook {
        void beforeStart(PodLaunch launch) throws Exception;
    }

    private final KubernetesClient client;
    private final String namespace;
    private final String nodeName;
    private final Path requestedWorkDir;
    private final boolean keepWorkDir;
    private final Duration maxGracePeriod;
    private final PodRunner runner;

    private Path workDir;
    private SharedIndexInformer<Pod> informer;
    private ExecutorService executor;
    private volatile boolean closed;
    private final Map<String, PodRun> runs = new ConcurrentHashMap<>();
    private final Map<String, PodRun> byName = new ConcurrentHashMap<>();
    private final List<String> started = new CopyOnWriteArrayList<>();

    private TestKubelet(Builder b) {
        this.client = Objects.requireNonNull(b.client, "client");
        this.namespace = b.namespace;
        this.nodeName = b.nodeName;
        this.requestedWorkDir = b.workDir;
        this.keepWorkDir = b.keepWorkDir;
        this.maxGracePeriod = b.maxGracePeriod;
        this.runner = new PodRunner(client, nodeName, b.onStart, b.inheritEnvironment, started, byName);
    }

    /** A kubelet for pods in {@code namespace} (null: all namespaces); call {@link #start()}. */
    public TestKubelet(KubernetesClient client, String namespace) {
        this(builder(client).namespace(namespace));
    }

    public static Builder builder(KubernetesClient client) {
        return new Builder(client);
    }

    /** Options of a {@link TestKubelet}. */
    public static final class Builder {
        private final KubernetesClient client;
        private String namespace;
        private String nodeName = "test-kubelet";
        private Path workDir;
        private boolean keepWorkDir;
        private Duration maxGracePeriod = Duration.ofSeconds(5);
        private boolean inheritEnvironment;
        private StartHook onStart;

        private Builder(KubernetesClient client) {
            this.client = client;
        }

        /** Only pods of this namespace (default: all namespaces). */
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        /** The node name pods are bound to (default {@code test-kubelet}); no Node object is created. */
        public Builder nodeName(String nodeName) {
            this.nodeName = Objects.requireNonNull(nodeName);
            return this;
        }

        /** Where pod directories go (default: a new temporary directory, deleted on close). */
        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        public Builder keepWorkDir(boolean keep) {
            this.keepWorkDir = keep;
            return this;
        }

        /** The longest a process gets between SIGTERM and SIGKILL on deletion (default 5 s). */
        public Builder maxGracePeriod(Duration grace) {
            this.maxGracePeriod = Objects.requireNonNull(grace);
            return this;
        }

        /**
         * Whether processes inherit this JVM's whole environment (default false: only PATH, HOME, USER,
         * LOGNAME, LANG, LC_ALL, TZ, TMPDIR, SHELL and NIX_CONF_DIR), under the pod's own variables.
         */
        public Builder inheritEnvironment(boolean inherit) {
            this.inheritEnvironment = inherit;
            return this;
        }

        /** Called just before each process starts (e.g. to slow a start down, or to make it crash). */
        public Builder onStart(StartHook hook) {
            this.onStart = hook;
            return this;
        }

        public TestKubelet build() {
            return new TestKubelet(this);
        }

        /** {@code build().start()}. */
        public TestKubelet start() {
            return build().start();
        }
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    /** Starts watching pods (returns once the informer has listed the existing ones). */
    public synchronized TestKubelet start() {
        if (informer != null || closed) {
            throw new IllegalStateException("start() may be called once");
        }
        try {
            workDir = requestedWorkDir != null ? Files.createDirectories(requestedWorkDir)
                    : Files.createTempDirectory("test-kubelet-");
            // pods run as other users must pass through to their volumes (not list them)
            VolumeOwnership.chmod(workDir, 0711);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-kubelet-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ResourceEventHandler<Pod> handler = new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                consider(pod);
            }

            @Override
            public void onUpdate(Pod oldPod, Pod pod) {
                consider(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                PodRun r = runs.get(pod.getMetadata().getUid());
                if (r != null) {
                    r.gone = true;
                    r.requestStop(grace(pod));
                }
            }
        };
        informer = namespace == null
                ? client.pods().inAnyNamespace().inform(handler, 0)
                : client.pods().inNamespace(namespace).inform(handler, 0);
        LOG.info("test kubelet {} watching pods in {}", nodeName, namespace == null ? "all namespaces" : namespace);
        return this;
    }

    /**
     * Stops watching, kills every process tree it started (SIGTERM, SIGKILL after the grace), writes their
     * final status, marks pods it took on but did not start as Failed, and deletes its directory unless it
     * is to be kept.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (informer != null) {
            informer.close();
        }
        for (PodRun r : runs.values()) {
            r.closing = true;
            r.requestStop(maxGracePeriod);
        }
        long deadline = System.nanoTime() + maxGracePeriod.plusSeconds(15).toNanos();
        for (PodRun r : runs.values()) {
            try {
                r.done.get(Math.max(deadline - System.nanoTime(), 1), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                LOG.warn("pod {} did not finish in time", r.key, e);
            }
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        for (PodRun r : runs.values()) {
            Process p = r.process;
            if (p != null && p.isAlive()) {
                Processes.stopTree(p.toHandle(), Processes.ownGroup(), Duration.ZERO);
            }
        }
        if (!keepWorkDir && workDir != null) {
            Processes.deleteTree(workDir);
        }
    }

    /**
     * Makes a test's directory readable for pods run as another user, as their inputs are in a cluster (a flake's
     * repository, a file their command names): {@code a+rX}. Directories above it
     * are not changed (a JUnit {@code @TempDir} is 0700, {@code /root} often is): if one of them keeps others out,
     * this fails naming it, rather than opening a home directory.
     *
     * @return {@code dir}
     */
    public static Path shareWithPods(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            for (Path up = abs.getParent(); up != null; up = up.getParent()) {
                if ((VolumeOwnership.mode(up) & 0001) == 0) {
                    throw new IllegalStateException(up + " is not searchable by other users, so pods run as"
                            + " another user cannot reach " + abs + ": put it elsewhere (e.g. under /tmp)");
                }
            }
            try (var walk = Files.walk(abs)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    if (!Files.isSymbolicLink(p)) {
                        int mode = VolumeOwnership.mode(p);
                        boolean searchable = Files.isDirectory(p) || (mode & 0111) != 0;
                        VolumeOwnership.chmod(p, mode | 0444 | (searchable ? 0111 : 0));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * Lets pods run as another user pass through {@code dir} (search, not list: {@code a+x}), e.g. a JUnit
     * {@code @TempDir} holding a file their command names among files they must not read.
     *
     * @return {@code dir}
     */
    public static Path passableByPods(Path dir) {
        try {
            VolumeOwnership.chmod(dir, VolumeOwnership.mode(dir) | 0111);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    // ------------------------------------------------------------------------------------------ queries

    /** Names of the pods whose process was started, in start order. */
    public List<String> started() {
        return List.copyOf(started);
    }

    /** The node name pods are bound to. */
    public String nodeName() {
        return nodeName;
    }

    /** Where pod directories are. */
    public Path workDir() {
        return workDir;
    }

    /** The output (stdout and stderr) of the latest run of the pod; empty when it has not started. */
    public String logs(String namespace, String name) {
        Path f = logFile(namespace, name);
        try {
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The log file of the latest run of the pod. */
    public Path logFile(String namespace, String name) {
        return run(namespace, name).logFile;
    }

    /** The host directory of the latest run of the pod (volumes, termination-log, log). */
    public Path podDir(String namespace, String name) {
        return run(namespace, name).dir;
    }

    /** The process id of the pod's process, if it was started. */
    public OptionalLong pid(String namespace, String name) {
        PodRun r = byName.get(namespace + "/" + name);
        Process p = r == null ? null : r.process;
        return p == null ? OptionalLong.empty() : OptionalLong.of(p.pid());
    }

    /** Whether the pod's process is running now. */
    public boolean isRunning(String namespace, String name) {
        PodRun r = byName.get(namespace + "/" + name);
        Process p = r == null ? null : r.process;
        return p != null && p.isAlive();
    }

    private PodRun run(String namespace, String name) {
        PodRun r = byName.get(namespace + "/" + name);
        if (r == null) {
            throw new IllegalArgumentException("the test kubelet has not taken on pod " + namespace + "/" + name);
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------ events

    private void consider(Pod pod) {
        String uid = pod.getMetadata().getUid();
        PodRun existing = runs.get(uid);
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            if (existing != null) {
                existing.deletionRequested = true;
                existing.requestStop(grace(pod));
            }
            return;
        }
        if (existing != null || closed) {
            return;
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if (phase != null && !"Pending".equals(phase)) {
            return;
        }
        String boundTo = pod.getSpec().getNodeName();
        if (boundTo != null && !boundTo.isEmpty() && !boundTo.equals(nodeName)) {
            return;
        }
        PodRun r = new PodRun(pod, workDir);
        byName.put(r.key, r);
        if (runs.putIfAbsent(uid, r) == null) {
            try {
                executor.submit(() -> runner.run(r, pod));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                runs.remove(uid);
            }
        }
    }

    private Duration grace(Pod pod) {
        Long s = pod.getMetadata().getDeletionGracePeriodSeconds();
        if (s == null) {
            s = pod.getSpec().getTerminationGracePeriodSeconds();
        }
        long seconds = s == null ? 30 : Math.max(s, 2); // the kubelet's minimum grace is 2 s
        Duration d = Duration.ofSeconds(seconds);
        return d.compareTo(maxGracePeriod) > 0 ? maxGracePeriod : d;
    }

    @Override
    public String toString() {
        return "TestKubelet[" + nodeName + ", " + (namespace == null ? "all namespaces" : namespace) + "]";
    }
}
