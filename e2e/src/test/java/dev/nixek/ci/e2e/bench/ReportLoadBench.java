package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.e2e.bench.OpenLoopAgents.Recorder;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The report API load benchmark (bench/report-load/README.md): a real etcd + kube-apiserver, the report API as its
 * own JVM (its jar, a small heap, a GC log), {@link OpenLoopAgents} reporting on an open-loop schedule, and in the
 * attack phase {@link AbuseLoad} at the same port. Prints one table row per phase. A main, not a test: nothing in
 * mvn runs it (its name matches none of the surefire/failsafe patterns).
 */
public final class ReportLoadBench {
  private static final Pattern GC = Pattern.compile(
      "^\\[(\\d+)ms\\].*?(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

  private final Map<String, String> env = System.getenv();
  private final int jobs = num("JOBS", 20);
  private final int steps = num("STEPS", 4);
  private final int chunkBytes = num("CHUNK_BYTES", 512);
  private final int drain = num("DRAIN", 30);
  private final Path work = Path.of(env.getOrDefault("WORK", "/tmp/nixek-report-load"));
  private final long clkTck = clkTck();
  private final List<String> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private KubeApiServer kube;
  private KubernetesClient client;
  private Process api;
  private int port;
  private String namespace;

  private int num(String key, int dflt) {
    String v = env.get(key);
    return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
  }

  public static void main(String[] args) throws Exception {
    new ReportLoadBench().run();
    System.exit(0);
  }

  private void run() throws Exception {
    Files.createDirectories(work);
    kube = KubeApiServer.builder().ci(true).workDir(work.resolve("kube")).start();
    try {
      ManifestsIT.installCrds(kube);
      client = kube.client();
      namespace = kube.createNamespace("bench");
      startReportApi();
      System.out.printf("report load benchmark: %d cores, %s, Java %s, %s; report API -Xmx%s; JOBS=%d STEPS=%d "
          + "CHUNK_BYTES=%d DRAIN=%d s; load average %s%n", Runtime.getRuntime().availableProcessors(), os(),
          System.getProperty("java.version"), kube.versions(), env.getOrDefault("XMX", "256m"), jobs, steps,
          chunkBytes, drain, loadAverage());
      header();
      List<String> phases = List.of(env.getOrDefault("PHASES", "warmup sweep quiet attack").trim().split("\\s+"));
      // RATE=swept: the quiet and attack phases run at the highest rate the sweep sustained
      boolean swept = "swept".equals(env.getOrDefault("RATE", "").trim());
      int rate = swept ? 0 : num("RATE", 500);
      int duration = num("DURATION", 600);
      int sustained = -1;
      for (String phase : phases) {
        switch (phase) {
          case "sweep" -> {
            for (String r : env.getOrDefault("SWEEP", "25 50 100 200 500").trim().split("\\s+")) {
              int sweepRate = Integer.parseInt(r);
              Result res = phase("sweep " + sweepRate + "/s", "s" + sweepRate, sweepRate,
                  num("SWEEP_DURATION", 60), false);
              if (res.sustained() && sweepRate > sustained) {
                sustained = sweepRate;
              }
            }
            if (swept) {
              rate = Math.max(sustained, Integer.parseInt(env.getOrDefault("SWEEP", "25").trim().split("\\s+")[0]));
            }
            notes.add("highest swept rate sustained (p99 < 1 s, less than 1 s of backlog, nothing unsent or lost): "
                + (sustained < 0 ? "none" : sustained + " reports/s"));
          }
          // the report API's JIT and the API server's caches warm up here, not in the first measured phase
          case "warmup" -> phase("warm-up 20/s", "w", 20, 20, false);
          case "quiet" -> phase("quiet", "q", rate, duration, false);
          case "attack" -> phase("under attack", "a", rate, duration, true);
          default -> throw new IllegalArgumentException("PHASES: unknown phase " + phase
              + " (warmup, sweep, quiet, attack)");
        }
      }
    } finally {
      if (api != null) {
        api.destroy();
        api.waitFor(15, TimeUnit.SECONDS);
      }
      kube.close();
    }
    System.out.println();
    System.out.println("## results");
    header();
    rows.forEach(System.out::println);
    System.out.println();
    notes.forEach(n -> System.out.println("- " + n));
    System.out.println("load average at the end: " + loadAverage());
  }

  private void startReportApi() throws IOException, InterruptedException {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = work.resolve("report-api.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + env.getOrDefault("XMX", "256m"),
        "-Xlog:gc:file=" + work.resolve("report-api-gc.log") + ":timemillis", "-jar",
        Path.of(env.getOrDefault("REPORT_API_JAR", "operator/report-api/target/nixek-report-api.jar"))
            .toAbsolutePath().toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    // anything else (NIXEK_REPORT_* limits) comes from this process's environment
    pb.environment().put("KUBECONFIG", kube.kubeconfig().toString());
    pb.environment().put("NIXEK_REPORT_BIND", "127.0.0.1");
    pb.environment().put("NIXEK_REPORT_PORT", Integer.toString(port));
    pb.environment().put("NIXEK_WATCH_NAMESPACES", namespace);
    // output goes to a local log store in the work directory (bench/log-ingest measures the S3 store)
    pb.environment().putIfAbsent("NIXEK_LOG_STORE", "local");
    pb.environment().putIfAbsent("NIXEK_LOG_DIR", work.resolve("logs").toString());
    api = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(log, StandardCharsets.UTF_8).contains("listening on port " + port)) {
      if (!api.isAlive() || System.nanoTime() > deadline) {
        throw new IOException("the report API did not start: " + Files.readString(log, StandardCharsets.UTF_8));
      }
      Thread.sleep(50);
    }
  }

  /** One phase's figures. */
  record Result(int rate, double p99, long backlog, long unsent, long lost, long refused, long abandoned) {
    boolean sustained() {
      return p99 < 1000 && backlog <= rate && unsent == 0 && lost == 0 && refused == 0 && abandoned == 0;
    }
  }

  private void header() {
    System.out.println("| phase | offered /s | achieved /s | acked | backlog at end | unsent | p50 ms | p90 ms | p99 ms "
        + "| max ms | 429 | 5xx/408 | I/O err | refused | lost | report API CPU s | kube-apiserver CPU s | etcd CPU s "
        + "| bench CPU s | heap after GC max MiB | heap max MiB | VmHWM MiB | API log lines |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        + "|---:|---:|---:|---:|");
  }

  private Result phase(String label, String prefix, int rate, int seconds, boolean abuse) throws Exception {
    OpenLoopAgents agents = new OpenLoopAgents(client, namespace, prefix, jobs, steps, chunkBytes,
        "http://127.0.0.1:" + port);
    agents.createJobs();
    AbuseLoad attack = null;
    if (abuse) {
      attack = new AbuseLoad(port, ReportPaths.step(namespace, prefix + "-0", 0, ReportPaths.OUTPUT),
          num("ATTACK_RATE", 2000), num("SLOW", 500), num("ATTACK_SOURCES", 1), num("SLOW_INTERVAL_MS", 2000));
      attack.start();
      // the slow connections open before the first real report is due
      Thread.sleep(5000);
    }
    Duration duration = Duration.ofSeconds(seconds);
    long logBefore = lines(work.resolve("report-api.log"));
    Files.writeString(Path.of("/proc/" + api.pid() + "/clear_refs"), "5");
    double[] cpu0 = cpu();
    long wall0 = System.currentTimeMillis();
    long start = System.nanoTime() + 100_000_000L;
    long n = agents.perJob(rate, duration);
    AbuseLoad a = attack;
    Thread timeline = new Thread(() -> timeline(label, agents, a, rate, n, start), "timeline");
    timeline.setDaemon(true);
    timeline.start();
    agents.run(rate, duration, Duration.ofSeconds(drain), start);
    timeline.interrupt();
    double[] cpu1 = cpu();
    long wall1 = System.currentTimeMillis();
    long hwm = vmHwmKib();
    if (attack != null) {
      attack.close();
    }
    long logAfter = lines(work.resolve("report-api.log"));
    OpenLoopAgents.Check check = agents.verify();
    agents.deleteJobs();
    long[] heap = heap(wall0, wall1);

    long end = start + duration.toNanos();
    long ackedInTime = agents.recorder.ackedBy(end);
    long backlog = agents.dueBy(rate, n, start, end) - ackedInTime;
    long[] lat = agents.recorder.sortedFrom(0);
    double p99 = Recorder.percentileMillis(lat, 99);
    rows.add(String.format("| %s | %d | %.1f | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %d | %d | %d | %d | %d "
            + "| %.1f | %.1f | %.1f | %.1f | %s | %s | %d | %d |",
        label, rate, ackedInTime / (double) seconds, lat.length, backlog, agents.unsent.get() + agents.abandoned.get(),
        Recorder.percentileMillis(lat, 50), Recorder.percentileMillis(lat, 90), p99,
        Recorder.percentileMillis(lat, 100), agents.retries429.get(), agents.retries5xx.get(),
        agents.retriesIo.get(), agents.refused.get(), check.lost(), cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
        cpu1[2] - cpu0[2], cpu1[3] - cpu0[3], heap[2] == 0 ? "no GC" : Long.toString(heap[0] / 1024),
        heap[2] == 0 ? "no GC" : Long.toString(heap[1] / 1024), hwm / 1024, logAfter - logBefore));
    System.out.println(rows.get(rows.size() - 1));
    notes.add(label + ": load average " + loadAverage() + " at the end; " + (wall1 - wall0) / 1000 + " s measured (schedule " + seconds + " s + drain), "
        + heap[2] + " GCs, " + n + " reports per job over " + steps + " steps, " + check.appliedUnacknowledged()
        + " applied but unacknowledged (in flight when given up)" + (check.firstLoss() == null ? ""
        : "; FIRST LOSS: " + check.firstLoss()) + (agents.firstRefusal == null ? ""
        : "; first refusal: " + agents.firstRefusal));
    if (attack != null) {
      notes.add(label + ": unknown-token requests " + attack.attackSent() + " (" + String.format("%.0f",
          attack.attackSent() / ((wall1 - wall0) / 1000.0 + 5)) + "/s achieved of " + num("ATTACK_RATE", 2000)
          + "/s offered, " + attack.attackSkipped.get() + " skipped by the attacker falling behind), answers "
          + attack.answers() + ", errors " + attack.attackErrors.get() + " " + attack.attackErrorKinds + "; slow connections: "
          + attack.slowOpened.get() + " opened, " + attack.slowOpenNow.get() + " open at the end, closed by the "
          + "server: " + attack.slowClosedBy + " (" + attack.slowLifetimes() + "), connect failures "
          + attack.slowConnectFailures.get());
    }
    System.out.println("  " + notes.get(notes.size() - (attack != null ? 2 : 1)));
    if (attack != null) {
      System.out.println("  " + notes.get(notes.size() - 1));
    }
    // let the API server's and the report API's caches settle before the next phase
    Thread.sleep(5000);
    return new Result(rate, p99, backlog, agents.unsent.get(), check.lost(), agents.refused.get(), agents.abandoned.get());
  }

  /** A line every 10 s: how far behind the schedule the agents are, and the window's latencies. */
  private void timeline(String label, OpenLoopAgents agents, AbuseLoad attack, int rate, long n, long start) {
    int seen = 0;
    while (true) {
      try {
        Thread.sleep(10_000);
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      int size = agents.recorder.size();
      long[] window = agents.recorder.sortedFrom(seen);
      seen = size;
      long backlog = agents.dueBy(rate, n, start, now) - size;
      System.out.printf("  %s t=%3ds acked %d backlog %d | last 10 s: %d acked, p50 %.0f ms p99 %.0f ms | 429 %d "
              + "5xx %d io %d%s%n", label, (now - start) / 1_000_000_000L, size, backlog, window.length,
          Recorder.percentileMillis(window, 50), Recorder.percentileMillis(window, 99), agents.retries429.get(),
          agents.retries5xx.get(), agents.retriesIo.get(), attack == null ? "" : " | attack " + attack.attackSent()
              + " sent " + attack.answers() + ", slow open " + attack.slowOpenNow.get() + " closed "
              + attack.slowClosedBy);
    }
  }

  /** CPU seconds so far of the report API, kube-apiserver, etcd and this JVM. */
  private double[] cpu() throws IOException {
    return new double[] {cpuSeconds(api.pid()), cpuSeconds(kube.apiServerPid()), cpuSeconds(kube.etcdPid()),
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime() / 1e9};
  }

  private double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) clkTck;
  }

  private long vmHwmKib() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/" + api.pid() + "/status"))) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** From the GC log between two wall-clock times: max heap after GC, max before GC (KiB), and the count. */
  private long[] heap(long fromMillis, long toMillis) throws IOException {
    long after = 0;
    long before = 0;
    long count = 0;
    for (String l : Files.readAllLines(work.resolve("report-api-gc.log"))) {
      Matcher m = GC.matcher(l);
      if (m.find()) {
        long t = Long.parseLong(m.group(1));
        if (t >= fromMillis && t <= toMillis) {
          before = Math.max(before, kib(m.group(2), m.group(3)));
          after = Math.max(after, kib(m.group(4), m.group(5)));
          count++;
        }
      }
    }
    return new long[] {after, before, count};
  }

  private static long kib(String n, String unit) {
    long v = Long.parseLong(n);
    return switch (unit) {
      case "K" -> v;
      case "M" -> v * 1024;
      default -> v * 1024 * 1024;
    };
  }

  private static long lines(Path p) throws IOException {
    try (var s = Files.lines(p, StandardCharsets.ISO_8859_1)) {
      return s.count();
    }
  }

  private static long clkTck() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      return Long.parseLong(new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim());
    } catch (IOException | NumberFormatException e) {
      return 100;
    }
  }

  private static String loadAverage() {
    try {
      return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
    } catch (IOException e) {
      return "?";
    }
  }

  private static String os() {
    try {
      return Files.readAllLines(Path.of("/etc/os-release")).stream().filter(l -> l.startsWith("PRETTY_NAME="))
          .map(l -> l.substring(12).replace("\"", "")).findFirst().orElse("?") + " " + Instant.now();
    } catch (IOException e) {
      return "?";
    }
  }
}
