package dev.nixek.ci.e2e.bench;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.operator.testing.Ec2TestEnv;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.AwsTestClients;
import dev.nixek.ci.testing.aws.ec2.Ec2Call;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Scale benchmark of the operator (bench/scale/README.md): JOBS live NixekJobs — waiting for an image that does not
 * exist, running on the EC2 fake (agents that never report), finished (cancelled) — on a real kube-apiserver + etcd,
 * the operator as its own JVM (its shaded jar) with a GC log. Measures EC2 calls per minute at steady state, heap
 * after a full GC, restart → every job reconciled once, and apply → RunInstances latency with the image Ready.
 * Not a test: run by bench/scale/run.sh.
 */
public final class ScaleBench {
  private static final Pattern FULL_GC = Pattern.compile("Pause Full \\((?:System.gc\\(\\)|Diagnostic Command)\\) (\\d+)M->(\\d+)M");
  private static final Pattern RECONCILING = Pattern.compile(
      "^(\\S+ \\S+) .*Reconciling resource execution scope: .*ResourceID\\{name='([^']+)', namespace='([^']+)'");
  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
  private static final String IMAGE = "bench-image";

  private final Map<String, String> env = System.getenv();
  private final Path work = Path.of(env.getOrDefault("WORK", "/tmp/nixek-scale"));
  private final Path home = Path.of(System.getProperty("nixek.home", ".")).toAbsolutePath();
  private final int jobs = Integer.parseInt(env.getOrDefault("JOBS", "2000"));
  private final int steadySeconds = Integer.parseInt(env.getOrDefault("STEADY", "60"));
  private final int latencyJobs = Integer.parseInt(env.getOrDefault("LATENCY_JOBS", "200"));
  private final double latencyRate = Double.parseDouble(env.getOrDefault("LATENCY_RATE", "10"));
  private final String xmx = env.getOrDefault("XMX", "512m");
  private KubeApiServer kube;
  private KubernetesClient client;
  private FakeEc2 ec2;
  private String namespace;
  private Process operator;
  private int starts;

  public static void main(String[] args) throws Exception {
    new ScaleBench().run();
    System.exit(0);
  }

  private void run() throws Exception {
    Files.createDirectories(work);
    kube = KubeApiServer.builder().ci(true).workDir(work.resolve("kube")).start();
    ec2 = FakeEc2.builder().pending(1, Duration.ofMillis(100)).shuttingDown(1, Duration.ofMillis(100)).start();
    try {
      ManifestsIT.installCrds(kube);
      client = kube.client();
      namespace = kube.createNamespace("bench");
      Map<String, String> opEnv = operatorEnv();
      String imageId = ec2.seedImage(TestImages.amiName(opEnv, namespace), ec2.seedSnapshot(4, Map.of()), Map.of());
      TestImages.ready(client, namespace, IMAGE, imageId);
      // MIX: parts of waiting, running and finished jobs (default 2:2:1)
      int[] mix = java.util.Arrays.stream(env.getOrDefault("MIX", "2:2:1").split(":")).mapToInt(Integer::parseInt)
          .toArray();
      if (mix.length != 3 || java.util.Arrays.stream(mix).anyMatch(m -> m < 0) || mix[0] + mix[1] + mix[2] == 0) {
        throw new IllegalArgumentException("MIX must be three non-negative parts waiting:running:finished, was "
            + env.get("MIX"));
      }
      int parts = mix[0] + mix[1] + mix[2];
      int waiting = jobs * mix[0] / parts;
      int running = jobs * mix[1] / parts;
      int finished = jobs - waiting - running;
      System.out.printf("scale benchmark: %d cores, Java %s, %s; operator -Xmx%s; JOBS=%d (%d waiting, %d running, "
          + "%d finished) NIXEK_POLL_SECONDS=%s; load average %s%n", Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"), kube.versions(), xmx, jobs, waiting, running, finished,
          opEnv.get("NIXEK_POLL_SECONDS"), loadAverage());
      startOperator(opEnv);
      long t0 = System.nanoTime();
      createJobs(waiting, running, finished);
      System.out.printf("created %d jobs in %.1f s%n", jobs, (System.nanoTime() - t0) / 1e9);
      awaitSettled(running, finished);
      System.out.printf("settled (running jobs launched, finished ones terminal) %.1f s after the first create%n",
          (System.nanoTime() - t0) / 1e9);
      steadyState("steady state");
      heapAfterGc();
      restart(opEnv);
      steadyState("steady state after the restart");
      latency();
      heapAfterGc();
    } finally {
      if (operator != null) {
        operator.destroy();
        operator.waitFor(30, TimeUnit.SECONDS);
      }
      ec2.close();
      kube.close();
    }
  }

  private Map<String, String> operatorEnv() {
    Map<String, String> e = new HashMap<>(Ec2TestEnv.operatorEnv(ec2.endpoint(), namespace));
    e.put("NIXEK_USE_SSA", "true");
    e.put("NIXEK_POLL_SECONDS", env.getOrDefault("POLL", "5"));
    e.put("NIXEK_BOOT_TIMEOUT_SECONDS", "86400");
    e.put("NIXEK_JOB_TIMEOUT_SECONDS", "86400");
    e.put("NIXEK_REPORT_URL", "http://127.0.0.1:9");
    e.put("NIXEK_EC2_NOT_FOUND_GRACE_SECONDS", "120");
    e.put("AWS_ACCESS_KEY_ID", AwsTestClients.DEFAULT_ACCESS_KEY);
    e.put("AWS_SECRET_ACCESS_KEY", AwsTestClients.DEFAULT_SECRET_KEY);
    env.forEach((k, v) -> {
      if (k.startsWith("NIXEK_") && !k.equals("NIXEK_BENCH_LOG")) {
        e.put(k, v);
      }
    });
    return e;
  }

  private Path log() {
    return work.resolve("operator-" + starts + ".log");
  }

  private void startOperator(Map<String, String> opEnv) throws IOException {
    starts++;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + xmx,
        "-Xlog:gc:file=" + work.resolve("operator-gc-" + starts + ".log") + ":uptime",
        "-Dlogback.configurationFile=" + home.resolve("bench/scale/logback.xml"),
        "-jar", home.resolve("operator/controller/target/nixek-operator.jar").toString());
    pb.environment().putAll(opEnv);
    pb.environment().put("KUBECONFIG", kube.kubeconfig().toString());
    pb.environment().put("NIXEK_BENCH_LOG", log().toString());
    pb.redirectErrorStream(true).redirectOutput(work.resolve("operator-" + starts + ".out").toFile());
    operator = pb.start();
  }

  private NixekJob job(String name, String image, boolean cancel) {
    NixekJob j = TestJobs.job(namespace, name, TestJobs.run("build", "make"), TestJobs.run("test", "make check"));
    j.getSpec().machine = null;
    j.getSpec().machineImageName = image;
    j.getSpec().cancel = cancel ? Boolean.TRUE : null;
    return j;
  }

  private void createJobs(int waiting, int running, int finished) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      int n = i;
      fs.add(pool.submit(() -> {
        NixekJob j = n < waiting ? job("waiting-" + n, "no-such-image", false)
            : n < waiting + running ? job("running-" + n, IMAGE, false) : job("finished-" + n, IMAGE, true);
        client.resources(NixekJob.class).inNamespace(namespace).resource(j).create();
      }));
    }
    for (var f : fs) {
      f.get();
    }
    pool.shutdown();
  }

  private void awaitSettled(int running, int finished) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    while (System.nanoTime() < deadline) {
      List<NixekJob> all = client.resources(NixekJob.class).inNamespace(namespace).list().getItems();
      long launched = all.stream().filter(j -> j.getMetadata().getName().startsWith("running-"))
          .filter(j -> j.getStatus() != null && j.getStatus().instanceId != null).count();
      long ended = all.stream().filter(j -> Conditions.isTerminal(j.getStatus())).count();
      long waitingSeen = all.stream().filter(j -> j.getMetadata().getName().startsWith("waiting-"))
          .filter(j -> j.getStatus() != null).count();
      if (launched >= running && ended >= finished && waitingSeen >= jobs - running - finished) {
        return;
      }
      System.out.printf("  ... %d/%d launched, %d/%d ended, %d waiting with a status%n", launched, running, ended,
          finished, waitingSeen);
      Thread.sleep(5000);
    }
    throw new IllegalStateException("jobs did not settle in 30 minutes");
  }

  private void steadyState(String what) throws Exception {
    Thread.sleep(10_000);
    ec2.reset();
    double cpu0 = cpuSeconds(operator.pid());
    double api0 = cpuSeconds(kube.apiServerPid());
    Thread.sleep(steadySeconds * 1000L);
    double cpu = cpuSeconds(operator.pid()) - cpu0;
    double api = cpuSeconds(kube.apiServerPid()) - api0;
    Map<String, Long> byAction = new TreeMap<>(ec2.calls().stream()
        .collect(Collectors.groupingBy(Ec2Call::action, Collectors.counting())));
    double minutes = steadySeconds / 60.0;
    String calls = byAction.entrySet().stream()
        .map(e -> String.format("%s %.1f", e.getKey(), e.getValue() / minutes)).collect(Collectors.joining(", "));
    System.out.printf("%s over %d s: EC2 calls per minute: %s (total %.1f); operator CPU %.2f cores, "
        + "kube-apiserver CPU %.2f cores; load average %s%n", what, steadySeconds, calls.isEmpty() ? "none" : calls,
        byAction.values().stream().mapToLong(Long::longValue).sum() / minutes, cpu / steadySeconds,
        api / steadySeconds, loadAverage());
  }

  private void heapAfterGc() throws Exception {
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(operator.pid()), "GC.run").redirectErrorStream(true).start();
    jcmd.getInputStream().readAllBytes();
    jcmd.waitFor();
    Thread.sleep(1000);
    String after = "?";
    for (String l : Files.readAllLines(work.resolve("operator-gc-" + starts + ".log"))) {
      Matcher m = FULL_GC.matcher(l);
      if (m.find()) {
        after = m.group(2);
      }
    }
    System.out.printf("operator heap after a full GC: %s MiB (-Xmx%s); RSS %s%n", after, xmx, rss(operator.pid()));
  }

  private void restart(Map<String, String> opEnv) throws Exception {
    operator.destroy();
    operator.waitFor(60, TimeUnit.SECONDS);
    Set<String> names = client.resources(NixekJob.class).inNamespace(namespace).list().getItems().stream()
        .map(j -> j.getMetadata().getName()).collect(Collectors.toSet());
    long spawned = System.currentTimeMillis();
    startOperator(opEnv);
    Set<String> seen = new HashSet<>();
    long first = -1;
    long last = -1;
    long deadline = spawned + TimeUnit.MINUTES.toMillis(20);
    int read = 0;
    while (seen.size() < names.size() && System.currentTimeMillis() < deadline) {
      Thread.sleep(1000);
      List<String> lines = Files.exists(log()) ? Files.readAllLines(log(), StandardCharsets.ISO_8859_1) : List.of();
      for (String l : lines.subList(Math.min(read, lines.size()), lines.size())) {
        Matcher m = RECONCILING.matcher(l);
        if (m.find() && names.contains(m.group(2)) && seen.add(m.group(2))) {
          long t = LocalDateTime.parse(m.group(1), LOG_TIME).toInstant(ZoneOffset.UTC).toEpochMilli();
          first = first < 0 ? t : Math.min(first, t);
          last = Math.max(last, t);
        }
      }
      read = lines.size();
    }
    System.out.printf("restart: %d/%d jobs reconciled; process start → first reconcile %.1f s, → every job "
        + "reconciled once %.1f s; load average %s%n", seen.size(), names.size(), (first - spawned) / 1e3,
        (last - spawned) / 1e3, loadAverage());
  }

  private void latency() throws Exception {
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < latencyJobs; i++) {
      long due = start + (long) (i * 1e9 / latencyRate);
      int n = i;
      fs.add(pool.submit(() -> {
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        long t = System.currentTimeMillis();
        NixekJob created = client.resources(NixekJob.class).inNamespace(namespace)
            .resource(job("latency-" + n, IMAGE, false)).create();
        sentAt.put(created.getMetadata().getUid(), t);
        return null;
      }));
    }
    for (var f : fs) {
      f.get();
    }
    pool.shutdown();
    long deadline = System.currentTimeMillis() + 120_000;
    List<Long> ms = new ArrayList<>();
    while (System.currentTimeMillis() < deadline) {
      ms.clear();
      Set<String> done = new HashSet<>();
      for (Ec2Call c : ec2.calls("RunInstances")) {
        String token = c.params().getOrDefault("ClientToken", "");
        for (var e : sentAt.entrySet()) {
          if (token.contains(e.getKey()) && done.add(e.getKey())) {
            ms.add(c.at().toEpochMilli() - e.getValue());
          }
        }
      }
      if (ms.size() >= latencyJobs) {
        break;
      }
      Thread.sleep(1000);
    }
    long[] sorted = ms.stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf("apply → RunInstances, %d jobs at %.0f/s with the image Ready (%d launched): p50 %d ms, "
        + "p90 %d ms, p99 %d ms, max %d ms; load average %s%n", latencyJobs, latencyRate, sorted.length,
        pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), sorted.length == 0 ? -1 : sorted[sorted.length - 1],
        loadAverage());
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  private static String rss(long pid) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024 + " MiB";
      }
    }
    return "?";
  }

  private static String loadAverage() {
    try {
      return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
    } catch (IOException e) {
      return "?";
    }
  }

}
