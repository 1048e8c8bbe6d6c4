package dev.nixek.ci.testing.aws.moto;

import dev.nixek.ci.testing.aws.AwsTestClients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;

/**
 * moto's server mode (a third-party AWS emulator, PyPI {@code moto[server]}) as a child process on 127.0.0.1 and
 * a free port: {@code python3 -m moto.server -H 127.0.0.1 -p <port>}. Used to cross-check {@code FakeEc2}.
 *
 * <p>The Python interpreter is {@code python3} on the PATH, or the system property / environment variable
 * {@code NIXEK_PYTHON}. The process is stopped by its pid on {@link #close()}, when start-up fails, and (as a last
 * resort) by a JVM shutdown hook.
 */
public final class MotoServer implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static volatile Boolean available;

    private final Process process;
    private final URI endpoint;
    private final Path log;
    private final Thread shutdownHook;

    private MotoServer(Process process, URI endpoint, Path log) {
        this.process = process;
        this.endpoint = endpoint;
        this.log = log;
        this.shutdownHook = new Thread(() -> destroy(process), "moto-server-kill");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** The Python interpreter used. */
    public static String python() {
        String p = System.getProperty("NIXEK_PYTHON");
        if (p == null || p.isBlank()) {
            p = System.getenv("NIXEK_PYTHON");
        }
        return p == null || p.isBlank() ? "python3" : p;
    }

    /** Whether {@code python3 -c "import moto.server"} works (cached after the first call). */
    public static boolean isAvailable() {
        Boolean a = available;
        if (a == null) {
            a = probe();
            available = a;
        }
        return a;
    }

    private static boolean probe() {
        try {
            Process p = new ProcessBuilder(python(), "-c", "import moto, moto.server, flask, werkzeug")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                destroy(p);
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Starts moto and waits until it answers HTTP; fails with install instructions when moto is missing. */
    public static MotoServer start() {
        if (!isAvailable()) {
            throw new IllegalStateException("moto is not installed for " + python()
                    + ": install it with  pip install 'moto[server]'  (or point NIXEK_PYTHON at an interpreter that has it)");
        }
        int port = freePort();
        Path log;
        try {
            log = Files.createTempFile("moto-server-", ".log");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(python(), "-m", "moto.server", "-H", "127.0.0.1", "-p", String.valueOf(port))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("PYTHONUNBUFFERED", "1");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + python() + " -m moto.server", e);
        }
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        try {
            waitUntilAnswering(process, endpoint, log);
        } catch (RuntimeException | Error e) {
            destroy(process);
            throw e;
        }
        return new MotoServer(process, endpoint, log);
    }

    private static void waitUntilAnswering(Process process, URI endpoint, Path log) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("moto exited with " + process.exitValue() + " while starting:\n" + tail(log));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) endpoint.resolve("/moto-api/").toURL().openConnection();
                c.setConnectTimeout(500);
                c.setReadTimeout(2000);
                int code = c.getResponseCode();
                c.disconnect();
                if (code > 0) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for moto", e);
            }
        }
        throw new IllegalStateException("moto did not answer on " + endpoint + " within " + START_TIMEOUT + ":\n" + tail(log));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops the process by pid: SIGTERM, then SIGKILL after 5 s. */
    private static void destroy(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public URI endpoint() {
        return endpoint;
    }

    /** The pid of the moto process. */
    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** moto's log (stdout and stderr). */
    public String log() {
        return tail(log);
    }

    /** A real SDK client for moto (us-east-1, static credentials, url-connection HTTP client). */
    public Ec2Client ec2Client() {
        return AwsTestClients.ec2(endpoint);
    }

    public Ec2Client ec2Client(Consumer<Ec2ClientBuilder> customizer) {
        return AwsTestClients.ec2(endpoint, AwsTestClients.DEFAULT_ACCESS_KEY, customizer);
    }

    /** Clears all of moto's state ({@code POST /moto-api/reset}). */
    public void reset() {
        try {
            HttpURLConnection c = (HttpURLConnection) endpoint.resolve("/moto-api/reset").toURL().openConnection();
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.getOutputStream().close();
            int code = c.getResponseCode();
            c.disconnect();
            if (code != 200) {
                throw new IllegalStateException("moto reset answered " + code);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        destroy(process);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
