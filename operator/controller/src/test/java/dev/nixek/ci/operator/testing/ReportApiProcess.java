package dev.nixek.ci.operator.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The report API as its own process (its shaded jar, as in production: its Vert.x must stay off this classpath),
 * authenticated by a kubeconfig, on a free port of 127.0.0.1. Started before the operator, for tests whose evaluation
 * pods post their results to it.
 */
public final class ReportApiProcess implements AutoCloseable {
  static final Path JAR = Path.of(System.getProperty("nixek.reportApi.jar", "../report-api/target/nixek-report-api.jar"));
  /** The line the report API prints on stdout once it listens. */
  static final String LISTENING = "nixek-report-api listening on port ";

  private final Process process;
  private final Path log;
  private final int port;

  private ReportApiProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts it for {@code namespace} and waits until it listens. */
  public static ReportApiProcess start(Path kubeconfig, String namespace, Path log) throws Exception {
    return start(kubeconfig, namespace, log, Map.of());
  }

  /** As {@link #start(Path, String, Path)}, with {@code extraEnv} (e.g. the binary caches' bucket). */
  public static ReportApiProcess start(Path kubeconfig, String namespace, Path log, Map<String, String> extraEnv)
      throws Exception {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " is missing: the reactor builds operator/report-api first");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-Xmx256m", "-jar", JAR.toAbsolutePath().toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(Map.of("KUBECONFIG", kubeconfig.toString(), "NIXEK_REPORT_BIND", "127.0.0.1",
        "NIXEK_REPORT_PORT", Integer.toString(port), "NIXEK_WATCH_NAMESPACES", namespace));
    pb.environment().putAll(extraEnv);
    ReportApiProcess p = new ReportApiProcess(pb.start(), log, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!p.process.isAlive()) {
        throw new IOException("the report API exited: " + p.logs());
      }
      if (p.logs().contains(LISTENING + port)) {
        return p;
      }
      Thread.sleep(50);
    }
    p.close();
    throw new IOException("the report API did not start: " + p.logs());
  }

  /** Its base URL. */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public String logs() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
