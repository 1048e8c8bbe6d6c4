package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd and kube-apiserver processes of a {@link KubeApiServer}: free ports on 127.0.0.1, their flags (those in
 * {@code hack/k8s-bins/README.md}), the readiness probes, a start-up failure carrying the end of both logs, and
 * stopping them in order. Not thread-safe: {@link KubeApiServer} calls it under its lock.
 */
final class ServerProcesses {

    private static final Logger LOG = LoggerFactory.getLogger(KubeApiServer.class);

    private final Path workDir;
    private final Path etcdBinary;
    private final Path apiServerBinary;
    private final List<String> extraApiServerArgs;
    private final Duration startTimeout;
    private final Duration stopGrace;

    volatile ProcessHandle etcd;
    volatile ProcessHandle apiServer;
    String url;
    String etcdUrl;
    long apiServerStartupMillis;

    ServerProcesses(Path workDir, Path etcdBinary, Path apiServerBinary, List<String> extraApiServerArgs,
                    Duration startTimeout, Duration stopGrace) {
        this.workDir = workDir;
        this.etcdBinary = etcdBinary;
        this.apiServerBinary = apiServerBinary;
        this.extraApiServerArgs = extraApiServerArgs;
        this.startTimeout = startTimeout;
        this.stopGrace = stopGrace;
    }

    static Path apiServerLog(Path workDir) {
        return workDir.resolve("apiserver.log");
    }

    static Path etcdLog(Path workDir) {
        return workDir.resolve("etcd.log");
    }

    /**
     * Starts etcd, runs {@code credentials} while it boots (it writes the token file, sa.key and sa.pub the
     * apiserver reads and returns the admin token), starts kube-apiserver and waits until it is ready.
     */
    void start(Supplier<String> credentials) {
        int etcdPort = freePort();
        int peerPort = freePort(etcdPort);
        int apiPort = freePort(etcdPort, peerPort);
        etcdUrl = "http://127.0.0.1:" + etcdPort;
        url = "https://127.0.0.1:" + apiPort;
        Path etcdData = workDir.resolve("etcd-data");
        Processes.deleteTree(etcdData);
        String peerUrl = "http://127.0.0.1:" + peerPort;
        try {
            Files.deleteIfExists(etcdLog(workDir));
            Files.deleteIfExists(apiServerLog(workDir));
            etcd = Processes.startDetached(List.of(etcdBinary.toString(),
                    "--name=test",
                    "--data-dir=" + etcdData,
                    "--listen-client-urls=" + etcdUrl,
                    "--advertise-client-urls=" + etcdUrl,
                    "--listen-peer-urls=" + peerUrl,
                    "--initial-advertise-peer-urls=" + peerUrl,
                    "--initial-cluster=test=" + peerUrl,
                    "--unsafe-no-fsync=true",
                    "--log-level=warn"), workDir, null, etcdLog(workDir)).toHandle();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + etcdBinary + ": " + e.getMessage(), e);
        }
        String token = credentials.get();  // while etcd boots
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
            apiServer = Processes.startDetached(args, workDir, null, apiServerLog(workDir)).toHandle();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + apiServerBinary + ": " + e.getMessage(), e);
        }
        HttpClient tls = InsecureTls.httpClient();
        waitUntil("kube-apiserver", apiServer, deadline, () -> {
            HttpResponse<String> r = tls.send(HttpRequest.newBuilder(URI.create(url + "/readyz"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().strip().equals("ok");
        });
        apiServerStartupMillis = (System.nanoTime() - a0) / 1_000_000;
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
        for (Path log : List.of(etcdLog(workDir), apiServerLog(workDir))) {
            if (Files.exists(log)) {
                sb.append("\n---- last lines of ").append(log).append('\n')
                        .append(Processes.tail(log, 40, 16 * 1024));
            }
        }
        return new IllegalStateException(sb.toString(), cause);
    }

    /** Stops kube-apiserver, then etcd (SIGTERM, SIGKILL after the grace); a no-op for what is not running. */
    void stop() {
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
}
