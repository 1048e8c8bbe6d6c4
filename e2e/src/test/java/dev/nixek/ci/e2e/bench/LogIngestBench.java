package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.logs.LogStores;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredLog;
import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.e2e.bench.OpenLoopAgents.Recorder;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The log-ingest benchmark (bench/log-ingest/README.md): 1 KiB output chunks from JOBS open-loop agents
 * ({@link OpenLoopAgents}, one step per job) into the report API (its jar, its own JVM) on a real etcd +
 * kube-apiserver, the log store on s3proxy. Per rate: ack latency, the API server's requests per chunk (from its
 * {@code apiserver_request_total}), stored bytes against acknowledged bytes read back through the {@link LogStore},
 * CPU and load average. A main, not a test: nothing in mvn runs it.
 */
public final class LogIngestBench {
  private static final Pattern REQUESTS = Pattern.compile(
      "^apiserver_request_total\\{(.*)\\} ([0-9.e+]+)$");
  private static final String BUCKET = "nixek-bench-logs";
  private static final String PREFIX = "bench/logs";

  private final Map<String, String> env = System.getenv();
  private final int jobs = num("JOBS", 20);
  private final int chunkBytes = num("CHUNK_BYTES", 1024);
  private final int duration = num("DURATION", 30);
  private final int drain = num("DRAIN", 15);
  private final Path work = Path.of(env.getOrDefault("WORK", "/tmp/nixek-log-ingest"));
  private final long clkTck = clkTck();
  private final List<String> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private KubeApiServer kube;
  private KubernetesClient client;
  private S3ProxyServer s3;
  private Process api;
  private int port;
  private String namespace;
  private LogStore store;

  private int num(String key, int dflt) {
    String v = env.get(key);
    return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
  }

  public static void main(String[] args) throws Exception {
    new LogIngestBench().run();
    System.exit(0);
  }

  private void run() throws Exception {
    Files.createDirectories(work);
    kube = KubeApiServer.builder().ci(true).workDir(work.resolve("kube")).start();
    s3 = S3ProxyServer.builder().filesystem(work.resolve("s3")).start().createBucket(BUCKET);
    try {
      ManifestsIT.installCrds(kube);
      client = kube.client();
      namespace = kube.createNamespace("bench");
      store = openStore();
      startReportApi();
      System.out.printf("log ingest benchmark: %d cores, Java %s, %s; report API -Xmx%s; JOBS=%d CHUNK_BYTES=%d "
          + "DURATION=%d s DRAIN=%d s; store %s; load average %s%n", Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"), kube.versions(), env.getOrDefault("XMX", "256m"), jobs, chunkBytes,
          duration, drain, "s3proxy",
          loadAverage());
      header();
      phase(20, 10, "w");
      for (String r : env.getOrDefault("RATES", "50 100 200 500 1000").trim().split("\\s+")) {
        phase(Integer.parseInt(r), duration, "r" + r);
      }
    } finally {
      if (api != null) {
        api.destroy();
        api.waitFor(15, TimeUnit.SECONDS);
      }
      if (store != null) {
        store.close();
      }
      s3.close();
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

  /**
   * The report API's log store options: the S3 store on s3proxy. The one place that names them (with
   * {@link #openStore}, which must open the same store).
   */
  private Map<String, String> storeEnv() {
    Map<String, String> m = new TreeMap<>();
    m.put("NIXEK_LOG_STORE", "s3");
    m.put("NIXEK_LOG_S3_BUCKET", BUCKET);
    m.put("NIXEK_LOG_S3_PREFIX", PREFIX);
    m.put("NIXEK_LOG_S3_REGION", "us-east-1");
    m.put("NIXEK_LOG_S3_ENDPOINT", s3.endpoint().toString());
    m.put("AWS_ACCESS_KEY_ID", s3.accessKey());
    m.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
    return m;
  }

  /** The store the report API writes to, opened in this JVM (same options, same s3proxy) to read every byte back. */
  private LogStore openStore() {
    return LogStores.open(LogStoreOptions.fromEnv(storeEnv()), StaticCredentialsProvider.create(
        AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())));
  }

  private void startReportApi() throws IOException, InterruptedException {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = work.resolve("report-api.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + env.getOrDefault("XMX", "256m"), "-jar",
        Path.of(env.getOrDefault("REPORT_API_JAR", "operator/report-api/target/nixek-report-api.jar"))
            .toAbsolutePath().toString())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    // anything else (NIXEK_REPORT_*, NIXEK_LOG_* limits) comes from this process's environment
    pb.environment().putAll(storeEnv());
    pb.environment().put("KUBECONFIG", kube.kubeconfig().toString());
    pb.environment().put("NIXEK_REPORT_BIND", "127.0.0.1");
    pb.environment().put("NIXEK_REPORT_PORT", Integer.toString(port));
    pb.environment().put("NIXEK_WATCH_NAMESPACES", namespace);
    api = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(log, StandardCharsets.UTF_8).contains("listening on port " + port)) {
      if (!api.isAlive() || System.nanoTime() > deadline) {
        throw new IOException("the report API did not start: " + Files.readString(log, StandardCharsets.UTF_8));
      }
      Thread.sleep(50);
    }
  }

  private void header() {
    System.out.println("| rate chunks/s | achieved /s | acked chunks | unsent | p50 ms | p99 ms | max ms | 429 | 5xx/408 "
        + "| refused | API calls/chunk (nixekjobs) | of which GET / PATCH / other | API calls/chunk (all) | MB/s stored "
        + "| lost (store) | lost (status) | report API CPU s | kube-apiserver CPU s | etcd CPU s | bench+s3proxy CPU s "
        + "| load avg after |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:"
        + "|---:|---|");
  }

  private void phase(int rate, int seconds, String prefix) throws Exception {
    OpenLoopAgents agents = new OpenLoopAgents(client, namespace, prefix, jobs, 1, chunkBytes,
        "http://127.0.0.1:" + port);
    agents.createJobs();
    Map<String, Double> before = requests();
    double[] cpu0 = cpu();
    long start = System.nanoTime() + 100_000_000L;
    long n = agents.run(rate, Duration.ofSeconds(seconds), Duration.ofSeconds(drain), start);
    double[] cpu1 = cpu();
    // the status write of the last chunks may be coalesced behind the interval: let it land before reading
    Thread.sleep(2000);
    Map<String, Double> after = requests();
    long acked = 0;
    for (int j = 0; j < jobs; j++) {
      acked += agents.ackedChunks(j, 0);
    }
    long end = start + Duration.ofSeconds(seconds).toNanos();
    long[] lat = agents.recorder.sortedFrom(0);
    double jobsCalls = delta(before, after, "nixekjobs", null);
    double get = delta(before, after, "nixekjobs", "GET");
    double patch = delta(before, after, "nixekjobs", "PATCH");
    double all = delta(before, after, null, null);
    String lostStore = store == null ? "not read" : Long.toString(lostInStore(agents));
    OpenLoopAgents.Check status = agents.verify();
    String row = String.format("| %d | %.1f | %d | %d | %.0f | %.0f | %.0f | %d | %d | %d | %.2f | %.2f / %.2f / %.2f "
            + "| %.2f | %.2f | %s | %d | %.1f | %.1f | %.1f | %.1f | %s |",
        rate, agents.recorder.ackedBy(end) / (double) seconds, acked, agents.unsent.get() + agents.abandoned.get(),
        Recorder.percentileMillis(lat, 50), Recorder.percentileMillis(lat, 99), Recorder.percentileMillis(lat, 100),
        agents.retries429.get(), agents.retries5xx.get(), agents.refused.get(), perChunk(jobsCalls, acked),
        perChunk(get, acked), perChunk(patch, acked), perChunk(jobsCalls - get - patch, acked), perChunk(all, acked),
        acked * chunkBytes / 1e6 / seconds, lostStore, status.lost(), cpu1[0] - cpu0[0], cpu1[1] - cpu0[1],
        cpu1[2] - cpu0[2], cpu1[3] - cpu0[3], loadAverage());
    if (!prefix.equals("w")) {
      rows.add(row);
    }
    System.out.println(row);
    notes.add((prefix.equals("w") ? "warm-up 20/s" : rate + "/s") + ": " + n + " reports per job (started, "
        + (n - 2) + " chunks, finished), " + seconds + " s + drain" + (status.firstLoss() == null ? ""
        : "; status FIRST LOSS: " + status.firstLoss()) + (agents.firstRefusal == null ? ""
        : "; first refusal: " + agents.firstRefusal));
    agents.deleteJobs();
    Thread.sleep(3000);
  }

  /**
   * Acknowledged chunks whose bytes the store does not hold exactly: per step, the stored log must be at least the
   * acknowledged chunks long and its first bytes must be those chunks, in order.
   */
  private long lostInStore(OpenLoopAgents agents) throws IOException {
    long lost = 0;
    for (int j = 0; j < jobs; j++) {
      String name = agents.name(j);
      String uid = client.resources(dev.nixek.ci.api.v1alpha1.NixekJob.class).inNamespace(namespace).withName(name)
          .get().getMetadata().getUid();
      StepLog log = new StepLog(namespace, name, uid, 0);
      long ackedChunks = agents.ackedChunks(j, 0);
      StoredLog state = store.state(log);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      store.read(log, 0, ackedChunks * chunkBytes, out);
      byte[] stored = out.toByteArray();
      for (long c = 0; c < ackedChunks; c++) {
        byte[] want = OpenLoopAgents.chunk(chunkBytes, j, 0, c);
        int from = (int) (c * chunkBytes);
        if (stored.length < from + chunkBytes
            || !Arrays.equals(stored, from, from + chunkBytes, want, 0, chunkBytes)) {
          lost++;
        }
      }
      if (state.bytes() < ackedChunks * chunkBytes && lost == 0) {
        lost++;
      }
    }
    return lost;
  }

  /** kube-apiserver's request counters by "resource verb". */
  private Map<String, Double> requests() {
    CommandResult r = kube.kubectl("get", "--raw", "/metrics").orThrow();
    Map<String, Double> m = new TreeMap<>();
    for (String line : r.stdout().split("\n")) {
      Matcher x = REQUESTS.matcher(line);
      if (x.matches()) {
        String labels = x.group(1);
        m.merge(label(labels, "resource") + " " + label(labels, "verb"), Double.parseDouble(x.group(2)), Double::sum);
      }
    }
    return m;
  }

  private static String label(String labels, String name) {
    Matcher m = Pattern.compile("(?:^|,)" + name + "=\"([^\"]*)\"").matcher(labels);
    return m.find() ? m.group(1) : "";
  }

  /** The growth of the counters of {@code resource} (null: all) with {@code verb} (null: all). */
  private static double delta(Map<String, Double> before, Map<String, Double> after, String resource, String verb) {
    double d = 0;
    for (Map.Entry<String, Double> e : after.entrySet()) {
      String[] rv = e.getKey().split(" ", 2);
      if ((resource == null || resource.equals(rv[0])) && (verb == null || verb.equals(rv[1]))) {
        d += e.getValue() - before.getOrDefault(e.getKey(), 0.0);
      }
    }
    return d;
  }

  private static double perChunk(double calls, long chunks) {
    return chunks == 0 ? 0 : calls / chunks;
  }

  /** CPU seconds so far of the report API, kube-apiserver, etcd and this JVM (agents and s3proxy). */
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
}
