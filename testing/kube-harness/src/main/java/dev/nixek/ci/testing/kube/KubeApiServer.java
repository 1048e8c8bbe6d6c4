package dev.nixek.ci.testing.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real etcd + kube-apiserver pair on 127.0.0.1, for tests.
 *
 * <p>{@link #start()} picks free ports, starts etcd (temporary data directory), generates a ServiceAccount
 * signing key pair and a static admin token (group {@code system:masters}), starts kube-apiserver with RBAC
 * authorization and self-signed serving certificates ({@code --cert-dir}), waits until {@code /readyz}
 * answers 200 and writes a kubeconfig. The flags are those in {@code hack/k8s-bins/README.md}.
 *
 * <p>{@link #close()} stops both by process id, kube-apiserver first and then etcd (SIGTERM, SIGKILL after a
 * grace): if etcd went first, kube-apiserver would hang in its graceful shutdown. The same happens in a JVM
 * shutdown hook, and, should the JVM die without running hooks (SIGKILL), in a small watchdog shell process
 * that notices the end of its stdin pipe from this JVM.
 *
 * <p>There is no controller-manager, scheduler or kubelet: no {@code default} ServiceAccount is created
 * (the ServiceAccount admission plugin is therefore disabled), pods stay Pending (see {@link TestKubelet}),
 * deleted namespaces stay Terminating and ownerReference garbage collection never happens.
 *
 * <p>This class is the lifecycle (start with retries on a port clash, close, the shutdown hook) and the API; the
 * work is in {@link ServerProcesses} (the two processes), {@link Credentials}, {@link Watchdog},
 * {@link ClusterClients} (clients, ServiceAccount tokens, namespaces) and {@link InsecureTls}. It stays longer
 * than those because it is the whole public face: the builder's options and some thirty documented methods.
 */
public final class KubeApiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);

    private final TestBinaries binaries;
    private final Path requestedWorkDir;
    private final boolean keepWorkDir;
    private final Duration startTimeout;
    private final Duration stopGrace;
    private final List<String> extraApiServerArgs;

    /** Guards start and stop; the shutdown hook waits for it only briefly (start() may be blocked). */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Path workDir;
    private volatile ServerProcesses processes;
    private volatile Process watchdog;
    private volatile Thread shutdownHook;
    private String token;
    private Path kubeconfig;
    private long startupMillis;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile ClusterClients clusterClients;

    /** A server with the defaults (binaries located by {@link TestBinaries#locate()}, temporary work dir). */
    public KubeApiServer() {
        this(builder());
    }

    private KubeApiServer(Builder b) {
        this.binaries = TestBinaries.locate(b.binDir, b.ci != null ? b.ci : TestBinaries.isCi());
        this.requestedWorkDir = b.workDir;
        this.keepWorkDir = b.keepWorkDir || Boolean.getBoolean("nixek.kube.keepWorkDir")
                || "true".equalsIgnoreCase(System.getenv("NIXEK_KEEP_KUBE_WORKDIR"));
        this.startTimeout = b.startTimeout;
        this.stopGrace = b.stopGrace;
        this.extraApiServerArgs = List.copyOf(b.apiServerArgs);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a {@link KubeApiServer}. */
    public static final class Builder {
        private Path binDir;
        private Boolean ci;
        private Path workDir;
        private boolean keepWorkDir;
        private Duration startTimeout = Duration.ofSeconds(120);
        private Duration stopGrace = Duration.ofSeconds(15);
        private final List<String> apiServerArgs = new ArrayList<>();

        private Builder() {
        }

        /** Where etcd and kube-apiserver are (default: see {@link TestBinaries}). */
        public Builder binDir(Path dir) {
            this.binDir = dir;
            return this;
        }

        /** Whether a missing binary fails (true) or skips (false) the test; default: env {@code CI=true}. */
        public Builder ci(boolean ci) {
            this.ci = ci;
            return this;
        }

        /**
         * Where data, certificates, keys, logs and the kubeconfig go (default: a new temporary directory,
         * deleted on close).
         */
        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /**
         * Keep the work directory on close (also: system property {@code nixek.kube.keepWorkDir=true} or env
         * {@code NIXEK_KEEP_KUBE_WORKDIR=true}). It is always kept when start-up fails.
         */
        public Builder keepWorkDir(boolean keep) {
            this.keepWorkDir = keep;
            return this;
        }

        /** How long etcd plus kube-apiserver may take to become ready (default 120 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** How long each process gets after SIGTERM before SIGKILL (default 15 s). */
        public Builder stopGrace(Duration grace) {
            this.stopGrace = Objects.requireNonNull(grace);
            return this;
        }

        /** An extra kube-apiserver flag, e.g. {@code --feature-gates=...}; later flags win. */
        public Builder apiServerArg(String arg) {
            this.apiServerArgs.add(arg);
            return this;
        }

        public KubeApiServer build() {
            return new KubeApiServer(this);
        }

        /** {@code build().start()}. */
        public KubeApiServer start() {
            return build().start();
        }
    }

    // ------------------------------------------------------------------------------------------ start

    /**
     * Starts etcd and kube-apiserver and waits until the API server is ready.
     *
     * @return this
     * @throws org.opentest4j.TestAbortedException when a binary is missing and {@code CI} is not true
     * @throws IllegalStateException when a binary is missing under {@code CI=true}, or start-up fails (the
     *     message holds the end of both logs)
     */
    public KubeApiServer start() {
        lock.lock();
        try {
            return doStart();
        } finally {
            lock.unlock();
        }
    }

    private KubeApiServer doStart() {
        if (started || closed) {
            throw new IllegalStateException("start() may be called once");
        }
        Path etcdBinary = binaries.require("etcd");
        Path apiServerBinary = binaries.require("kube-apiserver");
        try {
            workDir = requestedWorkDir != null ? Files.createDirectories(requestedWorkDir)
                    : Files.createTempDirectory("kube-apiserver-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work directory", e);
        }
        processes = new ServerProcesses(workDir, etcdBinary, apiServerBinary, extraApiServerArgs, startTimeout,
                stopGrace);
        shutdownHook = new Thread(this::closeFromHook, "kube-apiserver-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        long t0 = System.nanoTime();
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                processes.start(() -> token = Credentials.write(workDir));
                kubeconfig = workDir.resolve("kubeconfig");
                Credentials.writeKubeconfig(kubeconfig, processes.url, "admin", token, "default");
                last = null;
                break;
            } catch (IllegalStateException e) {
                last = e;
                processes.stop();
                // a free port is only free until someone takes it: retry on a port clash
                if (!String.valueOf(e.getMessage()).contains("address already in use")) {
                    break;
                }
                LOG.warn("port clash while starting (attempt {}), retrying with other ports", attempt);
            }
        }
        if (last != null) {
            removeShutdownHook();
            closed = true;
            throw last;
        }
        startupMillis = (System.nanoTime() - t0) / 1_000_000;
        clusterClients = new ClusterClients(processes.url, token, workDir);
        started = true;
        watchdog = Watchdog.start(workDir, processes.apiServer.pid(), processes.etcd.pid(), stopGrace, keepWorkDir);
        String line = "kube-apiserver ready in " + processes.apiServerStartupMillis + " ms (etcd + kube-apiserver: "
                + startupMillis + " ms) at " + processes.url + ", work dir " + workDir;
        System.out.println(line);
        LOG.info(line);
        return this;
    }

    // ------------------------------------------------------------------------------------------ stop

    private void closeFromHook() {
        shutdownHook = null; // no removal from inside the hook
        boolean locked = false;
        try {
            // start() may hold the lock while waiting for readiness: do not wait for it long
            locked = lock.tryLock(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            doClose();
        } finally {
            if (locked) {
                lock.unlock();
            }
        }
    }

    private void removeShutdownHook() {
        Thread hook = shutdownHook;
        shutdownHook = null;
        if (hook != null && hook != Thread.currentThread()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down; the hook runs close() itself
            }
        }
    }

    /**
     * Closes the clients made here, stops kube-apiserver and then etcd by pid (SIGTERM, SIGKILL after the
     * grace), and deletes the work directory unless it is to be kept. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            doClose();
        } finally {
            lock.unlock();
        }
    }

    private void doClose() {
        if (closed && (processes == null || processes.etcd == null && processes.apiServer == null)) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        if (clusterClients != null) {
            clusterClients.closeAll();
        }
        if (processes != null) {
            processes.stop();
        }
        if (watchdog != null) {
            Watchdog.stop(watchdog);
            watchdog = null;
        }
        removeShutdownHook();
        if (!keepWorkDir && started) {
            Processes.deleteTree(workDir);
        }
        if (started) {
            LOG.info("kube-apiserver and etcd stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    // ------------------------------------------------------------------------------------------ accessors

    private void requireStarted() {
        if (!started) {
            throw new IllegalStateException("the server is not started");
        }
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
    }

    /** The API server URL, {@code https://127.0.0.1:<port>}. */
    public String url() {
        requireStarted();
        return processes.url;
    }

    /** The etcd client URL, {@code http://127.0.0.1:<port>}. */
    public String etcdUrl() {
        requireStarted();
        return processes.etcdUrl;
    }

    /** A kubeconfig for the admin user (token, {@code insecure-skip-tls-verify}, namespace default). */
    public Path kubeconfig() {
        requireStarted();
        return kubeconfig;
    }

    /** The static bearer token of user {@code admin} in group {@code system:masters}. */
    public String adminToken() {
        requireStarted();
        return token;
    }

    /** Where data, certificates, keys, logs and kubeconfigs are. */
    public Path workDir() {
        return workDir;
    }

    public Path apiServerLog() {
        return ServerProcesses.apiServerLog(workDir);
    }

    public Path etcdLog() {
        return ServerProcesses.etcdLog(workDir);
    }

    /** The kube-apiserver process id (while running). */
    public long apiServerPid() {
        requireStarted();
        return processes.apiServer.pid();
    }

    /** The etcd process id (while running). */
    public long etcdPid() {
        requireStarted();
        return processes.etcd.pid();
    }

    /** Milliseconds from starting kube-apiserver until {@code /readyz} answered 200. */
    public long apiServerStartupMillis() {
        return processes == null ? 0 : processes.apiServerStartupMillis;
    }

    /** Milliseconds from starting etcd until kube-apiserver was ready. */
    public long startupMillis() {
        return startupMillis;
    }

    public boolean isRunning() {
        return started && !closed;
    }

    /** The built versions from the binary directory's {@code VERSIONS} file (e.g. kube-apiserver to v1.37.2). */
    public Map<String, String> versions() {
        return binaries.versions();
    }

    /** The binary locator in use. */
    public TestBinaries binaries() {
        return binaries;
    }

    // ------------------------------------------------------------------------------------------ clients (ClusterClients)

    /** The admin client (shared, namespace {@code default}); closed by {@link #close()}. */
    public KubernetesClient client() {
        requireStarted();
        return clusterClients.client();
    }

    /**
     * A new client authenticating as a ServiceAccount, with a token from the TokenRequest API (24 h). The
     * namespace and the ServiceAccount are created when missing (nothing else would: no controller-manager).
     * What the client may do is up to RBAC. Closed by {@link #close()} at the latest.
     */
    public KubernetesClient clientFor(String namespace, String serviceAccount) {
        requireStarted();
        return clusterClients.clientFor(namespace, serviceAccount);
    }

    /**
     * A kubeconfig file for a ServiceAccount (token from the TokenRequest API, namespace as default), e.g. to
     * run a process as the ServiceAccount of a Helm chart.
     */
    public Path kubeconfigFor(String namespace, String serviceAccount) {
        requireStarted();
        return clusterClients.kubeconfigFor(namespace, serviceAccount);
    }

    /**
     * A bearer token for a ServiceAccount from the TokenRequest API (24 h; cached per account), creating the
     * namespace and the ServiceAccount when missing.
     */
    public String serviceAccountToken(String namespace, String serviceAccount) {
        requireStarted();
        return clusterClients.serviceAccountToken(namespace, serviceAccount);
    }

    /** A new client with a bearer token; closed by {@link #close()} at the latest. */
    public KubernetesClient newClient(String bearerToken, String namespace) {
        requireStarted();
        return clusterClients.newClient(bearerToken, namespace);
    }

    // ------------------------------------------------------------------------------------------ namespaces

    /** Creates a namespace (no error when it exists already) and returns its name. */
    public String createNamespace(String name) {
        requireStarted();
        return clusterClients.createNamespace(name);
    }

    /**
     * Creates a namespace with a name unique in this JVM: {@code <prefix>-<salt><n>} (a DNS label; the prefix
     * is lower-cased, stripped of other characters and shortened) and returns its name.
     */
    public String createUniqueNamespace(String prefix) {
        requireStarted();
        return clusterClients.createUniqueNamespace(prefix);
    }

    // ------------------------------------------------------------------------------------------ CLIs

    /**
     * Runs the real kubectl with {@code --kubeconfig=<admin kubeconfig>} and a discovery cache in the work
     * directory (timeout 2 min). A {@code --kubeconfig=...} among {@code args} wins (the last flag counts),
     * e.g. {@code kubectl("--kubeconfig=" + kubeconfigFor(ns, sa), "auth", "can-i", "list", "pods")}.
     */
    public CommandResult kubectl(String... args) {
        return kubectlWithInput(null, args);
    }

    /** Like {@link #kubectl}, with {@code stdin} as standard input (e.g. {@code apply -f -}). */
    public CommandResult kubectlWithInput(String stdin, String... args) {
        requireStarted();
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.kubectl().toString());
        cmd.add("--kubeconfig=" + kubeconfig);
        cmd.add("--cache-dir=" + workDir.resolve("kubectl-cache"));
        cmd.addAll(List.of(args));
        return Processes.run(cmd, Map.of(), stdin, Duration.ofMinutes(2));
    }

    /**
     * {@code kubectl apply --server-side --force-conflicts -f <file>...}; throws with kubectl's output when it
     * fails.
     */
    public CommandResult applyServerSide(Path... files) {
        if (files.length == 0) {
            throw new IllegalArgumentException("no files");
        }
        List<String> args = new ArrayList<>(List.of("apply", "--server-side", "--force-conflicts"));
        for (Path f : files) {
            args.add("-f");
            args.add(f.toAbsolutePath().toString());
        }
        return kubectl(args.toArray(String[]::new)).orThrow();
    }

    /** {@code kubectl apply --server-side --force-conflicts -f -} with the given YAML; throws when it fails. */
    public CommandResult applyServerSide(String yaml) {
        return kubectlWithInput(yaml, "apply", "--server-side", "--force-conflicts", "-f", "-").orThrow();
    }

    /**
     * Runs the built helm ({@code <bin>/helm}) with {@code --kubeconfig=<admin kubeconfig>}, its cache, config
     * and data directories inside the work directory (timeout 5 min).
     */
    public CommandResult helm(String... args) {
        requireStarted();
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.require("helm").toString());
        cmd.addAll(List.of(args));
        cmd.add("--kubeconfig=" + kubeconfig);
        Path h = workDir.resolve("helm");
        return Processes.run(cmd, Map.of(
                "HELM_CACHE_HOME", h.resolve("cache").toString(),
                "HELM_CONFIG_HOME", h.resolve("config").toString(),
                "HELM_DATA_HOME", h.resolve("data").toString()), null, Duration.ofMinutes(5));
    }

    // ------------------------------------------------------------------------------------------ TLS

    /** A JDK HTTP client that trusts any server certificate (the apiserver's is self-signed). */
    public static HttpClient insecureHttpClient() {
        return InsecureTls.httpClient();
    }

    @Override
    public String toString() {
        return "KubeApiServer[" + (started ? processes.url : "not started") + (closed ? ", closed" : "") + "]";
    }
}
