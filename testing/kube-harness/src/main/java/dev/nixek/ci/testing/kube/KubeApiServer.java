package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

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
 */
public final class KubeApiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);
    private static final AtomicInteger NAMESPACE_SEQ = new AtomicInteger();
    private static final String NAMESPACE_SALT =
            HexFormat.of().formatHex(new SecureRandom().generateSeed(2));

    private final TestBinaries binaries;
    private final Path requestedWorkDir;
    private final boolean keepWorkDir;
    private final Duration startTimeout;
    private final Duration stopGrace;
    private final List<String> extraApiServerArgs;

    /** Guards start and stop; the shutdown hook waits for it only briefly (start() may be blocked). */
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Path workDir;
    private Path etcdBinary;
    private Path apiServerBinary;
    private volatile ProcessHandle etcd;
    private volatile ProcessHandle apiServer;
    private volatile Process watchdog;
    private volatile Thread shutdownHook;
    private String token;
    private String url;
    private String etcdUrl;
    private Path kubeconfig;
    private long startupMillis;
    private long apiServerStartupMillis;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile KubernetesClient adminClient;
    private final List<KubernetesClient> clients = new CopyOnWriteArrayList<>();
    private final Map<String, String> serviceAccountTokens = new ConcurrentHashMap<>();

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
        etcdBinary = binaries.require("etcd");
        apiServerBinary = binaries.require("kube-apiserver");
        try {
            workDir = requestedWorkDir != null ? Files.createDirectories(requestedWorkDir)
                    : Files.createTempDirectory("kube-apiserver-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work directory", e);
        }
        shutdownHook = new Thread(this::closeFromHook, "kube-apiserver-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        long t0 = System.nanoTime();
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                startOnce();
                last = null;
                break;
            } catch (IllegalStateException e) {
                last = e;
                stopProcesses();
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
        started = true;
        startWatchdog();
        String line = "kube-apiserver ready in " + apiServerStartupMillis + " ms (etcd + kube-apiserver: "
                + startupMillis + " ms) at " + url + ", work dir " + workDir;
        System.out.println(line);
        LOG.info(line);
        return this;
    }

    private void startOnce() {
        int etcdPort = freePort();
        int peerPort = freePort(etcdPort);
        int apiPort = freePort(etcdPort, peerPort);
        etcdUrl = "http://127.0.0.1:" + etcdPort;
        url = "https://127.0.0.1:" + apiPort;
        Path etcdData = workDir.resolve("etcd-data");
        Processes.deleteTree(etcdData);
        String peerUrl = "http://127.0.0.1:" + peerPort;
        try {
            Files.deleteIfExists(etcdLog());
            Files.deleteIfExists(apiServerLog());
            etcd = Processes.startDetached(List.of(etcdBinary.toString(),
                    "--name=test",
                    "--data-dir=" + etcdData,
                    "--listen-client-urls=" + etcdUrl,
                    "--advertise-client-urls=" + etcdUrl,
                    "--listen-peer-urls=" + peerUrl,
                    "--initial-advertise-peer-urls=" + peerUrl,
                    "--initial-cluster=test=" + peerUrl,
                    "--unsafe-no-fsync=true",
                    "--log-level=warn"), workDir, null, etcdLog()).toHandle();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + etcdBinary + ": " + e.getMessage(), e);
        }
        writeCredentials();  // while etcd boots
        long deadline = System.nanoTime() + startTimeout.toNanos();
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        waitUntil("etcd", etcd, deadline, () -> {
            HttpResponse<String> r = plain.send(HttpRequest.newBuilder(URI.create(etcdUrl + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
        });

        List<String> args = new ArrayList<>(List.of(apiServerBinary.toString(),
                "--etcd-servers=" + etcdUrl,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + apiPort,
                "--cert-dir=" + workDir.resolve("certs"),
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-account-key-file=" + workDir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + workDir.resolve("sa.key"),
                "--token-auth-file=" + workDir.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--disable-admission-plugins=ServiceAccount",
                "--enable-priority-and-fairness=false",
                "--endpoint-reconciler-type=none",
                "--profiling=false"));
        args.addAll(extraApiServerArgs);
        long a0 = System.nanoTime();
        try {
            apiServer = Processes.startDetached(args, workDir, null, apiServerLog()).toHandle();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + apiServerBinary + ": " + e.getMessage(), e);
        }
        HttpClient tls = insecureHttpClient();
        waitUntil("kube-apiserver", apiServer, deadline, () -> {
            HttpResponse<String> r = tls.send(HttpRequest.newBuilder(URI.create(url + "/readyz"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().strip().equals("ok");
        });
        apiServerStartupMillis = (System.nanoTime() - a0) / 1_000_000;
        kubeconfig = workDir.resolve("kubeconfig");
        writeKubeconfig(kubeconfig, "admin", token, "default");
    }

    private interface Probe {
        boolean ready() throws Exception;
    }

    private void waitUntil(String what, ProcessHandle process, long deadlineNanos, Probe probe) {
        Exception lastError = null;
        while (true) {
            try {
                if (probe.ready()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw startFailure(what + ": interrupted while waiting for it", e);
            } catch (Exception e) {
                lastError = e;
            }
            if (!process.isAlive()) {
                throw startFailure(what + " (pid " + process.pid() + ") exited during start-up", null);
            }
            if (System.nanoTime() > deadlineNanos) {
                throw startFailure(what + " not ready after " + startTimeout.toSeconds() + " s"
                        + (lastError == null ? "" : " (last probe error: " + lastError + ")"), null);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw startFailure(what + ": interrupted while waiting for it", e);
            }
        }
    }

    private IllegalStateException startFailure(String what, Throwable cause) {
        StringBuilder sb = new StringBuilder(what).append("; work dir ").append(workDir).append(" kept");
        for (Path log : List.of(etcdLog(), apiServerLog())) {
            if (Files.exists(log)) {
                sb.append("\n---- last lines of ").append(log).append('\n')
                        .append(Processes.tail(log, 40, 16 * 1024));
            }
        }
        return new IllegalStateException(sb.toString(), cause);
    }

    private void writeCredentials() {
        try {
            SecureRandom random = new SecureRandom();
            byte[] t = new byte[16];
            random.nextBytes(t);
            token = HexFormat.of().formatHex(t);
            // token,user,uid,"group1,group2"
            Files.writeString(workDir.resolve("tokens.csv"), token + ",admin,admin,\"system:masters\"\n");
            Files.writeString(workDir.resolve("token"), token);
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048, random);
            KeyPair kp = gen.generateKeyPair();
            Files.writeString(workDir.resolve("sa.key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(workDir.resolve("sa.pub"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
            Files.createDirectories(workDir.resolve("certs"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the service account key pair", e);
        }
    }

    /** PEM text: PKCS#8 for "PRIVATE KEY", X.509 SubjectPublicKeyInfo for "PUBLIC KEY". */
    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private void writeKubeconfig(Path file, String user, String bearer, String namespace) {
        String yaml = "apiVersion: v1\n"
                + "kind: Config\n"
                + "clusters:\n"
                + "- name: test\n"
                + "  cluster:\n"
                + "    server: " + url + "\n"
                + "    insecure-skip-tls-verify: true\n"
                + "users:\n"
                + "- name: " + user + "\n"
                + "  user:\n"
                + "    token: " + bearer + "\n"
                + "contexts:\n"
                + "- name: test\n"
                + "  context:\n"
                + "    cluster: test\n"
                + "    user: " + user + "\n"
                + "    namespace: " + namespace + "\n"
                + "current-context: test\n";
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort(int... not) {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = s.getLocalPort();
                boolean clash = false;
                for (int n : not) {
                    clash |= n == port;
                }
                if (!clash) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no free port on 127.0.0.1", e);
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1");
    }

    /**
     * The watchdog: a shell reading one line from a pipe whose other end only this JVM holds. "exit" ends it;
     * end of input (this JVM died without closing us) makes it stop kube-apiserver, then etcd, and delete the
     * work directory unless it is to be kept.
     */
    private void startWatchdog() {
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
                    Long.toString(apiServer.pid()), Long.toString(etcd.pid())));
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("watchdog.log").toFile()));
            pb.environment().put("DELETE_DIR", keepWorkDir ? "" : workDir.toString());
            watchdog = pb.start();
        } catch (IOException e) {
            LOG.warn("cannot start the watchdog; a JVM killed with SIGKILL will leave etcd/kube-apiserver running", e);
        }
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
        if (closed && etcd == null && apiServer == null) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        for (KubernetesClient c : clients) {
            try {
                c.close();
            } catch (RuntimeException e) {
                LOG.debug("closing a client", e);
            }
        }
        clients.clear();
        adminClient = null;
        stopProcesses();
        if (watchdog != null) {
            try (OutputStream os = watchdog.getOutputStream()) {
                os.write("exit\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                watchdog.destroy();
            }
            Processes.waitFor(watchdog.toHandle(), Duration.ofSeconds(2));
            if (watchdog.isAlive()) {
                watchdog.destroyForcibly();
            }
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

    private void stopProcesses() {
        // order matters: kube-apiserver before etcd, or kube-apiserver hangs retrying etcd
        if (apiServer != null) {
            if (!Processes.stop(apiServer, stopGrace)) {
                LOG.error("kube-apiserver (pid {}) is still alive", apiServer.pid());
            }
            apiServer = null;
        }
        if (etcd != null) {
            if (!Processes.stop(etcd, stopGrace)) {
                LOG.error("etcd (pid {}) is still alive", etcd.pid());
            }
            etcd = null;
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
        return url;
    }

    /** The etcd client URL, {@code http://127.0.0.1:<port>}. */
    public String etcdUrl() {
        requireStarted();
        return etcdUrl;
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
        return workDir.resolve("apiserver.log");
    }

    public Path etcdLog() {
        return workDir.resolve("etcd.log");
    }

    /** The kube-apiserver process id (while running). */
    public long apiServerPid() {
        requireStarted();
        return apiServer.pid();
    }

    /** The etcd process id (while running). */
    public long etcdPid() {
        requireStarted();
        return etcd.pid();
    }

    /** Milliseconds from starting kube-apiserver until {@code /readyz} answered 200. */
    public long apiServerStartupMillis() {
        return apiServerStartupMillis;
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

    // ------------------------------------------------------------------------------------------ clients

    /** The admin client (shared, namespace {@code default}); closed by {@link #close()}. */
    public KubernetesClient client() {
        requireStarted();
        KubernetesClient c = adminClient;
        if (c == null) {
            synchronized (this) {
                c = adminClient;
                if (c == null) {
                    c = newClient(token, "default");
                    adminClient = c;
                }
            }
        }
        return c;
    }

    /**
     * A new client authenticating as a ServiceAccount, with a token from the TokenRequest API (24 h). The
     * namespace and the ServiceAccount are created when missing (nothing else would: no controller-manager).
     * What the client may do is up to RBAC. Closed by {@link #close()} at the latest.
     */
    public KubernetesClient clientFor(String namespace, String serviceAccount) {
        return newClient(serviceAccountToken(namespace, serviceAccount), namespace);
    }

    /**
     * A kubeconfig file for a ServiceAccount (token from the TokenRequest API, namespace as default), e.g. to
     * run a process as the ServiceAccount of a Helm chart.
     */
    public Path kubeconfigFor(String namespace, String serviceAccount) {
        String t = serviceAccountToken(namespace, serviceAccount);
        Path file = workDir.resolve("kubeconfig-" + namespace + "-" + serviceAccount);
        writeKubeconfig(file, "system:serviceaccount:" + namespace + ":" + serviceAccount, t, namespace);
        return file;
    }

    /**
     * A bearer token for a ServiceAccount from the TokenRequest API (24 h; cached per account), creating the
     * namespace and the ServiceAccount when missing.
     */
    public String serviceAccountToken(String namespace, String serviceAccount) {
        requireStarted();
        return serviceAccountTokens.computeIfAbsent(namespace + "/" + serviceAccount, k -> {
            ensureNamespace(namespace);
            KubernetesClient admin = client();
            var sa = admin.serviceAccounts().inNamespace(namespace).withName(serviceAccount);
            if (sa.get() == null) {
                try {
                    admin.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
                            .withNewMetadata().withName(serviceAccount).endMetadata().build()).create();
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) {
                        throw e;
                    }
                }
            }
            TokenRequest tr = sa.tokenRequest(new TokenRequestBuilder()
                    .withNewSpec().withExpirationSeconds(24L * 3600).endSpec().build());
            return tr.getStatus().getToken();
        });
    }

    /** A new client with a bearer token; closed by {@link #close()} at the latest. */
    public KubernetesClient newClient(String bearerToken, String namespace) {
        requireStarted();
        Config config = new ConfigBuilder(Config.empty())
                .withMasterUrl(url)
                .withOauthToken(bearerToken)
                .withTrustCerts(true)
                .withDisableHostnameVerification(true)
                .withNamespace(namespace)
                .build();
        KubernetesClient c = new KubernetesClientBuilder().withConfig(config).build();
        clients.add(c);
        return c;
    }

    // ------------------------------------------------------------------------------------------ namespaces

    /** Creates a namespace (no error when it exists already) and returns its name. */
    public String createNamespace(String name) {
        requireStarted();
        try {
            client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                    .addToLabels("nixek.dev/test-harness", "true").endMetadata().build()).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
        }
        return name;
    }

    /**
     * Creates a namespace with a name unique in this JVM: {@code <prefix>-<salt><n>} (a DNS label; the prefix
     * is lower-cased, stripped of other characters and shortened) and returns its name.
     */
    public String createUniqueNamespace(String prefix) {
        String p = prefix == null ? "" : prefix.toLowerCase(java.util.Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("-+", "-").replaceAll("^-|-$", "");
        if (p.length() > 40) {
            p = p.substring(0, 40).replaceAll("-$", "");
        }
        if (p.isEmpty() || !Character.isLetter(p.charAt(0))) {
            p = "t" + (p.isEmpty() ? "" : "-" + p);
        }
        return createNamespace(p + "-" + NAMESPACE_SALT + NAMESPACE_SEQ.incrementAndGet());
    }

    private void ensureNamespace(String name) {
        if (client().namespaces().withName(name).get() == null) {
            createNamespace(name);
        }
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
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {TRUST_ALL}, new SecureRandom());
            return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(2)).build();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Trusts everything, also without a host name check: an {@link X509ExtendedTrustManager} is trusted by the
     * JDK to do the endpoint identification itself, and this one does none.
     */
    private static final X509ExtendedTrustManager TRUST_ALL = new X509ExtendedTrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    };

    @Override
    public String toString() {
        return "KubeApiServer[" + (started ? url : "not started") + (closed ? ", closed" : "") + "]";
    }
}
