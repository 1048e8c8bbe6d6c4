package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

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
 * {@link #HOST_PATHS} ({@code /nix}) is not materialized: the host's path stands in for it.
 */
public final class TestKubelet implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TestKubelet.class);
    private static final String LOCALHOST = "127.0.0.1";
    /** Kubernetes' limits for the termination message. */
    static final int MAX_MESSAGE_BYTES = 4096;
    static final int FALLBACK_LOG_LINES = 80;
    static final int FALLBACK_LOG_BYTES = 2048;
    private static final Set<String> HOST_ENV = Set.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL",
            "TZ", "TMPDIR", "SHELL");
    private static final AtomicInteger THREADS = new AtomicInteger();
    /**
     * Mount paths that stay the host's own, whatever volume a pod mounts there: {@code /nix}, where builder and
     * evaluation pods mount a writable emptyDir for the Nix store in a real cluster. Here their commands run the
     * host's nix, whose store is the host's /nix, and store paths in their arguments must keep meaning that.
     */
    static final Set<String> HOST_PATHS = Set.of("/nix");

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
    private final boolean inheritEnvironment;
    private final StartHook onStart;

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
        this.inheritEnvironment = b.inheritEnvironment;
        this.onStart = b.onStart;
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
         * LOGNAME, LANG, LC_ALL, TZ, TMPDIR and SHELL), under the pod's own variables.
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
        PodRun r = new PodRun(pod);
        if (runs.putIfAbsent(uid, r) == null) {
            try {
                executor.submit(() -> runPod(r, pod));
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

    /** One pod's run (by uid). */
    private final class PodRun {
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

        PodRun(Pod pod) {
            this.namespace = pod.getMetadata().getNamespace();
            this.name = pod.getMetadata().getName();
            this.uid = pod.getMetadata().getUid();
            this.key = namespace + "/" + name;
            this.dir = workDir.resolve(namespace + "_" + name + "_" + uid.substring(0, Math.min(8, uid.length())));
            this.logFile = dir.resolve(containerName(pod) + ".log");
            byName.put(key, this);
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
    }

    private static String containerName(Pod pod) {
        List<Container> cs = pod.getSpec().getContainers();
        return cs == null || cs.isEmpty() ? "container" : cs.get(0).getName();
    }

    // ------------------------------------------------------------------------------------------ running a pod

    /** The container could not be started: terminated with exit code 128 (as containerd reports it). */
    private static final class StartFailure extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        StartFailure(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /** A ConfigMap, Secret or key is missing (and not optional): the pod waits for it. */
    private static final class MissingSource extends Exception {
        private static final long serialVersionUID = 1L;
        final String reason;

        MissingSource(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    private static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;
    }

    private void runPod(PodRun r, Pod pod) {
        Thread.currentThread().setName("test-kubelet " + r.key);
        Instant startedAt = null;
        try {
            if (pod.getSpec().getNodeName() == null || pod.getSpec().getNodeName().isEmpty()) {
                if (!bind(r)) {
                    return;
                }
            }
            r.bound = true;
            Container c = firstContainer(pod);
            warnAboutUnsupported(r, pod);
            Files.createDirectories(r.dir);
            PodLaunch launch = prepareWaiting(r, pod, c);
            if (onStart != null) {
                try {
                    onStart.beforeStart(launch);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    throw new StartFailure("StartError", "start hook: " + e);
                }
            }
            List<String> cmd = new ArrayList<>(launch.command());
            cmd.set(0, resolveExecutable(cmd.get(0), launch.environment(), launch.workingDir()));
            Files.createDirectories(launch.workingDir());
            Process p;
            try {
                p = r.start(cmd, launch.workingDir(), launch.environment());
            } catch (IOException e) {
                throw new StartFailure("StartError", "cannot start " + cmd.get(0) + ": " + e.getMessage());
            }
            if (p == null) {
                throw new Stopped();
            }
            startedAt = now();
            started.add(r.name);
            LOG.info("pod {}: started pid {}: {}", r.key, p.pid(), cmd);
            Instant runningSince = startedAt;
            updateStatus(r, s -> running(s, pod, p.pid(), runningSince));
            int exit = p.waitFor();
            Instant finishedAt = now();
            String message = terminationMessage(r, c, exit);
            LOG.info("pod {}: pid {} exited {}", r.key, p.pid(), exit);
            updateStatus(r, s -> terminated(s, pod, p.pid(), exit, exit == 0 ? "Completed" : "Error", message,
                    runningSince, finishedAt));
        } catch (StartFailure e) {
            LOG.info("pod {}: cannot start: {}", r.key, e.getMessage());
            Instant at = now();
            updateStatus(r, s -> startFailed(s, pod, e.reason, e.getMessage(), at));
        } catch (Stopped | InterruptedException e) {
            if (!r.deletionRequested && !r.gone) { // stopped by close()
                Instant at = now();
                updateStatus(r, s -> startFailed(s, pod, "TestKubeletClosed",
                        "the test kubelet was closed before the container started", at));
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } catch (Exception e) {
            LOG.error("pod {}: test kubelet failure", r.key, e);
            Instant at = now();
            updateStatus(r, s -> startFailed(s, pod, "TestKubeletError", e.toString(), at));
        } finally {
            try {
                if (r.bound && r.deletionRequested && !r.gone) {
                    finalDelete(r);
                }
            } finally {
                r.done.complete(null);
            }
        }
    }

    private boolean bind(PodRun r) {
        try {
            client.bindings().inNamespace(r.namespace).resource(new BindingBuilder()
                    .withNewMetadata().withName(r.name).withUid(r.uid).endMetadata()
                    .withNewTarget().withApiVersion("v1").withKind("Node").withName(nodeName).endTarget()
                    .build()).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) {
                LOG.debug("pod {} not bound to {} ({}): left alone", r.key, nodeName, e.getMessage());
                byName.remove(r.key, r);
                return false;
            }
            throw e;
        }
    }

    private static Container firstContainer(Pod pod) throws StartFailure {
        List<Container> cs = pod.getSpec().getContainers();
        if (cs == null || cs.isEmpty()) {
            throw new StartFailure("StartError", "the pod has no containers");
        }
        return cs.get(0);
    }

    private void warnAboutUnsupported(PodRun r, Pod pod) {
        if (pod.getSpec().getContainers().size() > 1) {
            LOG.warn("pod {}: the test kubelet runs only the first container ({}); {} more ignored", r.key,
                    pod.getSpec().getContainers().get(0).getName(), pod.getSpec().getContainers().size() - 1);
        }
        if (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty()) {
            LOG.warn("pod {}: init containers are not run by the test kubelet", r.key);
        }
        String policy = pod.getSpec().getRestartPolicy();
        if (policy != null && !"Never".equals(policy)) {
            LOG.warn("pod {}: restartPolicy {} is not honoured: the test kubelet runs the container once", r.key,
                    policy);
        }
    }

    /** Prepares volumes, env and command; waits (Pending) while a ConfigMap/Secret/key is missing. */
    private PodLaunch prepareWaiting(PodRun r, Pod pod, Container c) throws Exception {
        String lastMessage = null;
        while (true) {
            if (r.stopRequested) {
                throw new Stopped();
            }
            try {
                return prepare(r, pod, c);
            } catch (MissingSource e) {
                if (!e.getMessage().equals(lastMessage)) {
                    lastMessage = e.getMessage();
                    LOG.info("pod {}: waiting: {}", r.key, e.getMessage());
                    updateStatus(r, s -> waiting(s, pod, e.reason, e.getMessage()));
                }
                Thread.sleep(250);
            }
        }
    }

    private PodLaunch prepare(PodRun r, Pod pod, Container c) throws Exception {
        Path volumesDir = r.dir.resolve("volumes");
        Processes.deleteTree(volumesDir);
        Files.createDirectories(volumesDir);

        // volumes mounted by the first container
        Map<String, Volume> volumes = new HashMap<>();
        if (pod.getSpec().getVolumes() != null) {
            for (Volume v : pod.getSpec().getVolumes()) {
                volumes.put(v.getName(), v);
            }
        }
        Map<String, String> mounts = new LinkedHashMap<>();
        Map<String, Path> materialized = new HashMap<>();
        if (c.getVolumeMounts() != null) {
            for (VolumeMount m : c.getVolumeMounts()) {
                Volume v = volumes.get(m.getName());
                if (v == null) {
                    throw new StartFailure("StartError", "volumeMount " + m.getName() + ": no such volume");
                }
                if (HOST_PATHS.contains(m.getMountPath())) {
                    continue;
                }
                Path host = materialized.get(v.getName());
                if (host == null) {
                    host = materialize(r, pod, v, volumesDir);
                    materialized.put(v.getName(), host);
                }
                if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                    host = host.resolve(checkRelative(m.getSubPath(), "subPath"));
                    if (!Files.exists(host)) {
                        Files.createDirectories(host); // like the kubelet: a missing subPath becomes a directory
                    }
                }
                mounts.put(m.getMountPath(), host.toString());
            }
        }
        String tmPath = c.getTerminationMessagePath() == null ? "/dev/termination-log" : c.getTerminationMessagePath();
        Path tmFile = r.dir.resolve("termination-log");
        Files.write(tmFile, new byte[0]);
        mounts.put(tmPath, tmFile.toString());
        PathRewriter mountsOnly = new PathRewriter(mounts);
        Path defaultWorkDir = r.dir.resolve("workdir");
        Path cwd;
        if (c.getWorkingDir() != null && !c.getWorkingDir().isBlank()) {
            if (mountsOnly.covers(c.getWorkingDir())) {
                cwd = Path.of(mountsOnly.rewrite(c.getWorkingDir()));
            } else {
                mounts.put(c.getWorkingDir(), defaultWorkDir.toString());
                cwd = defaultWorkDir;
            }
        } else {
            cwd = defaultWorkDir;
        }
        PathRewriter rewriter = new PathRewriter(mounts);

        // environment: host basics, service variables, envFrom, env (Kubernetes' order), $(VAR) expansion
        Map<String, String> base = new LinkedHashMap<>();
        System.getenv().forEach((k, v) -> {
            if (inheritEnvironment || HOST_ENV.contains(k)) {
                base.put(k, v);
            }
        });
        base.put("HOSTNAME", r.name);
        URL master = client.getMasterUrl();
        if (master != null) {
            base.put("KUBERNETES_SERVICE_HOST", master.getHost());
            base.put("KUBERNETES_SERVICE_PORT", Integer.toString(master.getPort() > 0 ? master.getPort() : 443));
        }
        Map<String, String> raw = new LinkedHashMap<>();
        Map<String, String> visible = new HashMap<>(base);
        if (c.getEnvFrom() != null) {
            for (EnvFromSource ef : c.getEnvFrom()) {
                String prefix = ef.getPrefix() == null ? "" : ef.getPrefix();
                Map<String, String> values = new LinkedHashMap<>();
                if (ef.getConfigMapRef() != null) {
                    ConfigMap cm = configMap(r.namespace, ef.getConfigMapRef().getName(),
                            Boolean.TRUE.equals(ef.getConfigMapRef().getOptional()), "CreateContainerConfigError");
                    if (cm != null && cm.getData() != null) {
                        values.putAll(cm.getData());
                    }
                } else if (ef.getSecretRef() != null) {
                    Secret s = secret(r.namespace, ef.getSecretRef().getName(),
                            Boolean.TRUE.equals(ef.getSecretRef().getOptional()), "CreateContainerConfigError");
                    if (s != null) {
                        values.putAll(decode(s));
                    }
                }
                values.forEach((k, v) -> {
                    raw.put(prefix + k, v);
                    visible.put(prefix + k, v);
                });
            }
        }
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                String value = e.getValueFrom() != null ? envValueFrom(r, pod, e)
                        : PathRewriter.expand(e.getValue() == null ? "" : e.getValue(), visible);
                if (value == null) {
                    continue; // optional and missing
                }
                raw.put(e.getName(), value);
                visible.put(e.getName(), value);
            }
        }
        Map<String, String> env = new LinkedHashMap<>(base);
        raw.forEach((k, v) -> env.put(k, rewriter.rewrite(v)));

        // command line
        if (c.getCommand() == null || c.getCommand().isEmpty()) {
            throw new StartFailure("StartError", "the test kubelet needs containers[0].command: images are"
                    + " ignored, so their entrypoint is unknown");
        }
        List<String> cmd = new ArrayList<>();
        for (String s : c.getCommand()) {
            cmd.add(rewriter.rewrite(PathRewriter.expand(s, visible)));
        }
        if (c.getArgs() != null) {
            for (String s : c.getArgs()) {
                cmd.add(rewriter.rewrite(PathRewriter.expand(s, visible)));
            }
        }
        return new PodLaunch(new PodBuilder(pod).build(), r.dir, rewriter, cmd, env, cwd);
    }

    private String envValueFrom(PodRun r, Pod pod, EnvVar e) throws Exception {
        EnvVarSource src = e.getValueFrom();
        if (src.getSecretKeyRef() != null) {
            var ref = src.getSecretKeyRef();
            boolean optional = Boolean.TRUE.equals(ref.getOptional());
            Secret s = secret(r.namespace, ref.getName(), optional, "CreateContainerConfigError");
            if (s == null) {
                return null;
            }
            String v = decode(s).get(ref.getKey());
            if (v == null && !optional) {
                throw new MissingSource("CreateContainerConfigError",
                        "couldn't find key " + ref.getKey() + " in Secret " + r.namespace + "/" + ref.getName());
            }
            return v;
        }
        if (src.getConfigMapKeyRef() != null) {
            var ref = src.getConfigMapKeyRef();
            boolean optional = Boolean.TRUE.equals(ref.getOptional());
            ConfigMap cm = configMap(r.namespace, ref.getName(), optional, "CreateContainerConfigError");
            if (cm == null) {
                return null;
            }
            String v = cm.getData() == null ? null : cm.getData().get(ref.getKey());
            if (v == null && !optional) {
                throw new MissingSource("CreateContainerConfigError",
                        "couldn't find key " + ref.getKey() + " in ConfigMap " + r.namespace + "/" + ref.getName());
            }
            return v;
        }
        if (src.getFieldRef() != null) {
            return fieldValue(pod, src.getFieldRef().getFieldPath());
        }
        throw new StartFailure("TestKubeletUnsupported", "env " + e.getName()
                + ": only value, secretKeyRef, configMapKeyRef and fieldRef are supported by the test kubelet");
    }

    private static final Pattern MAP_FIELD = Pattern.compile("metadata\\.(labels|annotations)\\['(.*)'\\]");

    /** The downward API fields the test kubelet knows. */
    static String fieldValue(Pod pod, String path) throws StartFailure {
        Matcher m = MAP_FIELD.matcher(path);
        if (m.matches()) {
            Map<String, String> map = "labels".equals(m.group(1)) ? pod.getMetadata().getLabels()
                    : pod.getMetadata().getAnnotations();
            String v = map == null ? null : map.get(m.group(2));
            return v == null ? "" : v;
        }
        switch (path) {
            case "metadata.name":
                return pod.getMetadata().getName();
            case "metadata.namespace":
                return pod.getMetadata().getNamespace();
            case "metadata.uid":
                return pod.getMetadata().getUid();
            case "metadata.labels":
                return formatMap(pod.getMetadata().getLabels());
            case "metadata.annotations":
                return formatMap(pod.getMetadata().getAnnotations());
            case "spec.nodeName":
                return pod.getSpec().getNodeName() == null ? "" : pod.getSpec().getNodeName();
            case "spec.serviceAccountName":
                return pod.getSpec().getServiceAccountName() == null ? "" : pod.getSpec().getServiceAccountName();
            case "status.hostIP":
            case "status.hostIPs":
            case "status.podIP":
            case "status.podIPs":
                return LOCALHOST;
            default:
                throw new StartFailure("TestKubeletUnsupported", "fieldRef " + path
                        + " is not supported by the test kubelet");
        }
    }

    /** The downward API's format of labels/annotations: {@code key="value"} lines, sorted. */
    private static String formatMap(Map<String, String> map) {
        if (map == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        map.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> sb.append(e.getKey())
                .append("=\"").append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\"")
                        .replace("\n", "\\n")).append("\"\n"));
        return sb.toString().stripTrailing();
    }

    private ConfigMap configMap(String ns, String name, boolean optional, String reason) throws MissingSource {
        ConfigMap cm = client.configMaps().inNamespace(ns).withName(name).get();
        if (cm == null && !optional) {
            throw new MissingSource(reason, "configmap \"" + name + "\" not found");
        }
        return cm;
    }

    private Secret secret(String ns, String name, boolean optional, String reason) throws MissingSource {
        Secret s = client.secrets().inNamespace(ns).withName(name).get();
        if (s == null && !optional) {
            throw new MissingSource(reason, "secret \"" + name + "\" not found");
        }
        return s;
    }

    private static Map<String, String> decode(Secret s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (s.getStringData() != null) {
            out.putAll(s.getStringData());
        }
        return out;
    }

    private static Map<String, byte[]> decodeBytes(Secret s) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        if (s.getStringData() != null) {
            s.getStringData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static Map<String, byte[]> bytes(ConfigMap cm) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (cm.getData() != null) {
            cm.getData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        if (cm.getBinaryData() != null) {
            cm.getBinaryData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        return out;
    }

    /** Writes a volume's content below {@code volumesDir}; returns its host directory. */
    private Path materialize(PodRun r, Pod pod, Volume v, Path volumesDir) throws Exception {
        Path dir = volumesDir.resolve(v.getName());
        if (v.getHostPath() != null) {
            return Path.of(v.getHostPath().getPath());
        }
        Files.createDirectories(dir);
        if (v.getEmptyDir() != null) {
            return dir;
        }
        if (v.getConfigMap() != null) {
            var src = v.getConfigMap();
            ConfigMap cm = configMap(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                    "ContainerCreating");
            if (cm != null) {
                writeKeys(dir, bytes(cm), src.getItems(), src.getDefaultMode(), "configmap " + src.getName(),
                        Boolean.TRUE.equals(src.getOptional()));
            }
            return dir;
        }
        if (v.getSecret() != null) {
            var src = v.getSecret();
            Secret s = secret(r.namespace, src.getSecretName(), Boolean.TRUE.equals(src.getOptional()),
                    "ContainerCreating");
            if (s != null) {
                writeKeys(dir, decodeBytes(s), src.getItems(), src.getDefaultMode(), "secret " + src.getSecretName(),
                        Boolean.TRUE.equals(src.getOptional()));
            }
            return dir;
        }
        if (v.getDownwardAPI() != null) {
            writeDownward(dir, pod, v.getDownwardAPI().getItems(), v.getDownwardAPI().getDefaultMode());
            return dir;
        }
        if (v.getProjected() != null) {
            Integer mode = v.getProjected().getDefaultMode();
            for (VolumeProjection p : v.getProjected().getSources()) {
                if (p.getConfigMap() != null) {
                    var src = p.getConfigMap();
                    ConfigMap cm = configMap(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                            "ContainerCreating");
                    if (cm != null) {
                        writeKeys(dir, bytes(cm), src.getItems(), mode, "configmap " + src.getName(),
                                Boolean.TRUE.equals(src.getOptional()));
                    }
                } else if (p.getSecret() != null) {
                    var src = p.getSecret();
                    Secret s = secret(r.namespace, src.getName(), Boolean.TRUE.equals(src.getOptional()),
                            "ContainerCreating");
                    if (s != null) {
                        writeKeys(dir, decodeBytes(s), src.getItems(), mode, "secret " + src.getName(),
                                Boolean.TRUE.equals(src.getOptional()));
                    }
                } else if (p.getDownwardAPI() != null) {
                    writeDownward(dir, pod, p.getDownwardAPI().getItems(), mode);
                } else if (p.getServiceAccountToken() != null) {
                    var src = p.getServiceAccountToken();
                    String sa = pod.getSpec().getServiceAccountName() == null ? "default"
                            : pod.getSpec().getServiceAccountName();
                    String token;
                    try {
                        var spec = new TokenRequestBuilder().withNewSpec()
                                .withExpirationSeconds(src.getExpirationSeconds() == null ? 3600L
                                        : src.getExpirationSeconds())
                                .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod")
                                .withName(r.name).withUid(r.uid).endBoundObjectRef();
                        if (src.getAudience() != null && !src.getAudience().isEmpty()) {
                            spec.withAudiences(src.getAudience());
                        }
                        token = client.serviceAccounts().inNamespace(r.namespace).withName(sa)
                                .tokenRequest(spec.endSpec().build()).getStatus().getToken();
                    } catch (KubernetesClientException e) {
                        throw new MissingSource("ContainerCreating", "cannot get a token for serviceaccount " + sa
                                + " (nothing creates ServiceAccounts here: create it): " + e.getMessage());
                    }
                    writeFile(dir, src.getPath(), token.getBytes(StandardCharsets.UTF_8), mode, 0600);
                } else {
                    throw new StartFailure("TestKubeletUnsupported", "volume " + v.getName()
                            + ": projected source not supported by the test kubelet");
                }
            }
            return dir;
        }
        throw new StartFailure("TestKubeletUnsupported", "volume " + v.getName() + ": type not supported by the"
                + " test kubelet (supported: emptyDir, configMap, secret, downwardAPI, projected, hostPath)");
    }

    private static void writeKeys(Path dir, Map<String, byte[]> data, List<KeyToPath> items, Integer defaultMode,
            String what, boolean optional) throws Exception {
        if (items == null || items.isEmpty()) {
            for (Map.Entry<String, byte[]> e : data.entrySet()) {
                writeFile(dir, e.getKey(), e.getValue(), null, defaultMode == null ? 0644 : defaultMode);
            }
            return;
        }
        for (KeyToPath item : items) {
            byte[] content = data.get(item.getKey());
            if (content == null) {
                if (optional) {
                    continue;
                }
                throw new MissingSource("ContainerCreating", what + ": key " + item.getKey() + " not found");
            }
            writeFile(dir, item.getPath(), content, item.getMode(), defaultMode == null ? 0644 : defaultMode);
        }
    }

    private static void writeDownward(Path dir, Pod pod, List<DownwardAPIVolumeFile> items, Integer defaultMode)
            throws Exception {
        if (items == null) {
            return;
        }
        for (DownwardAPIVolumeFile f : items) {
            if (f.getFieldRef() == null) {
                throw new StartFailure("TestKubeletUnsupported", "downwardAPI " + f.getPath()
                        + ": only fieldRef is supported by the test kubelet");
            }
            writeFile(dir, f.getPath(), fieldValue(pod, f.getFieldRef().getFieldPath()).getBytes(StandardCharsets.UTF_8),
                    f.getMode(), defaultMode == null ? 0644 : defaultMode);
        }
    }

    private static void writeFile(Path dir, String relative, byte[] content, Integer mode, int defaultMode)
            throws IOException, StartFailure {
        Path f = dir.resolve(checkRelative(relative, "path"));
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        int m = mode != null ? mode : defaultMode;
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(f, permissions(m));
        }
    }

    private static String checkRelative(String p, String what) throws StartFailure {
        Path path = Path.of(p).normalize();
        if (path.isAbsolute() || path.startsWith("..")) {
            throw new StartFailure("StartError", what + " " + p + " must be relative and must not contain '..'");
        }
        return path.toString();
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        s.add(PosixFilePermission.OWNER_READ); // the harness must be able to clean up
        return s;
    }

    /** An absolute path for the command, searched on the process's PATH (a missing one is a StartError). */
    private static String resolveExecutable(String command, Map<String, String> env, Path cwd) throws StartFailure {
        if (command.contains("/")) {
            Path p = cwd.resolve(command);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
            throw new StartFailure("StartError", "exec: \"" + command + "\": no such executable file");
        }
        String path = env.getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, command);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new StartFailure("StartError", "exec: \"" + command + "\": executable file not found in $PATH");
    }

    /** The termination message: the file (first 4096 bytes), or the output's end under FallbackToLogsOnError. */
    private String terminationMessage(PodRun r, Container c, int exit) {
        String message = "";
        try {
            Path f = r.dir.resolve("termination-log");
            if (Files.exists(f)) {
                try (var in = Files.newInputStream(f)) {
                    message = new String(in.readNBytes(MAX_MESSAGE_BYTES), StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            LOG.warn("pod {}: cannot read the termination message", r.key, e);
        }
        if (message.isEmpty() && exit != 0 && "FallbackToLogsOnError".equals(c.getTerminationMessagePolicy())) {
            message = Processes.tail(r.logFile, FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES);
        }
        return message;
    }

    private void finalDelete(PodRun r) {
        try {
            // the kubelet's last word on a gracefully deleted pod: delete it for good (this uid only)
            client.raw(client.getMasterUrl().toString().replaceAll("/$", "") + "/api/v1/namespaces/"
                    + r.namespace + "/pods/" + r.name, "DELETE", Map.of("apiVersion", "v1", "kind", "DeleteOptions",
                    "gracePeriodSeconds", 0, "preconditions", Map.of("uid", r.uid)));
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404 && e.getCode() != 409) {
                LOG.warn("pod {}: final delete failed", r.key, e);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ status

    /**
     * Reads the pod, applies {@code change} to its status and PUTs it to {@code /status} with the
     * resourceVersion read; a 409 (someone else wrote in between) means read again and apply again.
     */
    private void updateStatus(PodRun r, Consumer<PodStatus> change) {
        if (r.gone) {
            return;
        }
        for (int attempt = 1; attempt <= 20; attempt++) {
            try {
                Pod current = client.pods().inNamespace(r.namespace).withName(r.name).get();
                if (current == null || !r.uid.equals(current.getMetadata().getUid())) {
                    return;
                }
                if (current.getStatus() == null) {
                    current.setStatus(new PodStatus());
                }
                change.accept(current.getStatus());
                client.pods().inNamespace(r.namespace).resource(current).updateStatus();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    LOG.debug("pod {}: status conflict, reading again", r.key);
                    continue;
                }
                if (e.getCode() == 404) {
                    return;
                }
                LOG.warn("pod {}: cannot write status: {}", r.key, e.getMessage());
                return;
            }
        }
        LOG.warn("pod {}: status still conflicting after 20 attempts", r.key);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    private static String ts(Instant i) {
        return i.toString();
    }

    private void hostAndIps(PodStatus s) {
        s.setHostIP(LOCALHOST);
        s.setHostIPs(List.of(new HostIP(LOCALHOST)));
        s.setPodIP(LOCALHOST);
        s.setPodIPs(List.of(new PodIP(LOCALHOST)));
    }

    private static void conditions(PodStatus s, boolean ready, String reason, Instant at) {
        Map<String, PodCondition> byType = new LinkedHashMap<>();
        if (s.getConditions() != null) {
            for (PodCondition c : s.getConditions()) {
                byType.put(c.getType(), c);
            }
        }
        setCondition(byType, "PodReadyToStartContainers", true, null, at);
        setCondition(byType, "Initialized", true, null, at);
        setCondition(byType, "Ready", ready, reason, at);
        setCondition(byType, "ContainersReady", ready, reason, at);
        setCondition(byType, "PodScheduled", true, null, at);
        s.setConditions(new ArrayList<>(byType.values()));
    }

    private static void setCondition(Map<String, PodCondition> byType, String type, boolean value, String reason,
            Instant at) {
        String status = value ? "True" : "False";
        PodCondition old = byType.get(type);
        if (old != null && status.equals(old.getStatus()) && Objects.equals(reason, old.getReason())) {
            return;
        }
        byType.put(type, new PodConditionBuilder().withType(type).withStatus(status).withReason(reason)
                .withLastTransitionTime(ts(at)).build());
    }

    private ContainerStatusBuilder containerStatus(Pod pod) {
        Container c = pod.getSpec().getContainers().get(0);
        return new ContainerStatusBuilder().withName(c.getName()).withImage(c.getImage()).withImageID("")
                .withRestartCount(0);
    }

    private void waiting(PodStatus s, Pod pod, String reason, String message) {
        s.setPhase("Pending");
        hostAndIps(s);
        ContainerStatus cs = containerStatus(pod).withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewWaiting().withReason(reason).withMessage(message)
                        .endWaiting().build())
                .build();
        s.setContainerStatuses(List.of(cs));
    }

    private void running(PodStatus s, Pod pod, long pid, Instant startedAt) {
        s.setPhase("Running");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(startedAt));
        }
        hostAndIps(s);
        conditions(s, true, null, startedAt);
        s.setContainerStatuses(List.of(containerStatus(pod).withContainerID("testkubelet://" + pid)
                .withReady(true).withStarted(true)
                .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(ts(startedAt)).endRunning()
                        .build())
                .build()));
    }

    private void terminated(PodStatus s, Pod pod, long pid, int exitCode, String reason, String message,
            Instant startedAt, Instant finishedAt) {
        s.setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(startedAt));
        }
        hostAndIps(s);
        conditions(s, false, "PodCompleted", finishedAt);
        s.setContainerStatuses(List.of(containerStatus(pod).withContainerID("testkubelet://" + pid)
                .withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).withReason(reason)
                        .withMessage(message.isEmpty() ? null : message)
                        .withStartedAt(ts(startedAt)).withFinishedAt(ts(finishedAt))
                        .withContainerID("testkubelet://" + pid).endTerminated().build())
                .build()));
    }

    private void startFailed(PodStatus s, Pod pod, String reason, String message, Instant at) {
        s.setPhase("Failed");
        if (s.getStartTime() == null) {
            s.setStartTime(ts(at));
        }
        if (reason.startsWith("TestKubelet")) {
            s.setReason(reason);
            s.setMessage(message);
        }
        hostAndIps(s);
        conditions(s, false, "PodCompleted", at);
        s.setContainerStatuses(List.of(containerStatus(pod).withReady(false).withStarted(false)
                .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(128)
                        .withReason(reason.startsWith("TestKubelet") ? "StartError" : reason)
                        .withMessage(message).withStartedAt(ts(at)).withFinishedAt(ts(at)).endTerminated().build())
                .build()));
    }

    @Override
    public String toString() {
        return "TestKubelet[" + nodeName + ", " + (namespace == null ? "all namespaces" : namespace) + "]";
    }
}
