package dev.nixek.ci.e2e.chart;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import dev.nixek.ci.operator.testing.TestJobs;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.job.JobTokenSecrets;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.testing.ImageBootingProvider;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One installation of the chart and the probes that exercise every permission it grants, each as the code uses it:
 * the operator and the report API start and become ready, the operator leads and renews its Lease, a job on a
 * machine image succeeds with its Events, a job whose machine disappears ends InstanceLost, a deleted running job
 * goes away with its machine, a repeated Event bumps its count, a job's token Secret is replaced for a new token.
 * Both processes run with the chart's ServiceAccounts; {@code before} can take a permission away first.
 */
final class RbacScenario {
  static final String IMAGE = "stand-in";

  /** What one probe saw: passed, or the observation that shows it failing. */
  record Result(String probe, boolean passed, String observation, Duration took) {}

  private final KubeApiServer kube;
  private final Path work;
  private final Duration jobTimeout;

  RbacScenario(KubeApiServer kube, Path work, Duration jobTimeout) {
    this.kube = kube;
    this.work = work;
    this.jobTimeout = jobTimeout;
  }

  private static final Map<String, ChartInstall> INSTALLED = new java.util.concurrent.ConcurrentHashMap<>();

  /** The installation the last run named {@code release} made. */
  static ChartInstall last(String release) {
    return INSTALLED.get(release);
  }

  /** Installs the chart as {@code release}, runs {@code before} on it, then the probes; stops at the first failure. */
  List<Result> run(String release, Consumer<ChartInstall> before, boolean stopAtFirstFailure) throws Exception {
    ChartInstall chart = ChartInstall.install(kube, work, release, "deployment", true, null);
    INSTALLED.put(release, chart);
    KubernetesClient admin = kube.client();
    createReadyImage(admin, chart.jobsNamespace());
    before.accept(chart);
    List<Result> results = new ArrayList<>();
    OperatorConfig config = OperatorConfig.fromEnv(chart.operatorEnv("operator-0"));
    MachineProvider provider = new ImageBootingProvider(Main.provider(config, Clock.systemUTC()));
    Instant start = Instant.now();
    Stack stack;
    try {
      stack = chart.start(provider, Map.of());
    } catch (Exception e) {
      results.add(new Result("starts", false, "operator does not start: " + rootCause(e), since(start)));
      return results;
    }
    try {
      results.add(new Result("starts", true, "", since(start)));
      ProbeRun probes = new ProbeRun(chart, stack, admin);
      for (Probe p : List.of(
          new Probe("report API ready", probes::reportApiReady),
          new Probe("operator ready", probes::operatorReady),
          new Probe("leads and renews the Lease", probes::leadsAndRenews))) {
        Result r = p.run();
        results.add(r);
        if (!r.passed() && stopAtFirstFailure) {
          return results;
        }
      }
      results.addAll(parallel(stopAtFirstFailure,
          new Probe("job on an image succeeds with Events", probes::jobSucceeds),
          new Probe("lost machine ends the job InstanceLost", probes::lostMachine),
          new Probe("deleted running job goes, machine terminated", probes::deleteRunning),
          new Probe("repeated Event bumps its count", probes::eventRepeat),
          new Probe("token Secret replaced for a new token", probes::tokenRotation)));
      return results;
    } finally {
      stack.close();
      killAgents(chart.work().resolve("machines"));
    }
  }

  private List<Result> parallel(boolean stopAtFirstFailure, Probe... probes) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(probes.length);
    try {
      ExecutorCompletionService<Result> done = new ExecutorCompletionService<>(pool);
      List<Future<Result>> futures = new ArrayList<>();
      for (Probe p : probes) {
        futures.add(done.submit(p::run));
      }
      List<Result> results = new ArrayList<>();
      for (int i = 0; i < probes.length; i++) {
        Result r;
        try {
          r = done.take().get();
        } catch (java.util.concurrent.ExecutionException e) {
          r = new Result("?", false, rootCause(e), Duration.ZERO);
        }
        results.add(r);
        if (!r.passed() && stopAtFirstFailure) {
          break;
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  /** A named check: returns null when it passed, else what it saw. */
  private record Probe(String name, Callable<String> check) {
    Result run() {
      Instant start = Instant.now();
      String failure;
      try {
        failure = check.call();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = "interrupted";
      } catch (Exception e) {
        failure = rootCause(e);
      }
      return new Result(name, failure == null, failure == null ? "" : failure, since(start));
    }
  }

  /** The probes, against one running installation. */
  private final class ProbeRun {
    private final ChartInstall chart;
    private final Stack stack;
    private final KubernetesClient admin;
    private final String ns;

    ProbeRun(ChartInstall chart, Stack stack, KubernetesClient admin) {
      this.chart = chart;
      this.stack = stack;
      this.admin = admin;
      this.ns = chart.jobsNamespace();
    }

    String reportApiReady() throws InterruptedException {
      return waitFor(Duration.ofSeconds(6), () -> HelmChartE2E.httpStatus(stack.reportUrl() + "/readyz") == 200,
          () -> "report API /readyz answers " + HelmChartE2E.httpStatus(stack.reportUrl() + "/readyz"));
    }

    String operatorReady() throws InterruptedException {
      String url = "http://127.0.0.1:" + stack.operator().healthPort() + "/readyz";
      return waitFor(Duration.ofSeconds(6), () -> HelmChartE2E.httpStatus(url) == 200 && stack.fatalErrors() == 0,
          () -> "operator /readyz answers " + HelmChartE2E.httpStatus(url) + ", fatal errors " + stack.fatalErrors());
    }

    String leadsAndRenews() throws InterruptedException {
      var lease = admin.leases().inNamespace(chart.namespace()).withName("nixek-operator");
      String led = waitFor(Duration.ofSeconds(6), () -> stack.operator().isLeader(),
          () -> "never leads; Lease " + describe(lease.get()));
      if (led != null) {
        return led;
      }
      String first = lease.get().getSpec().getRenewTime().toString();
      return waitFor(Duration.ofSeconds(6), () -> !first.equals(lease.get().getSpec().getRenewTime().toString())
              && stack.fatalErrors() == 0,
          () -> "Lease not renewed (renewTime " + first + "), " + stack.fatalErrors() + " fatal error(s)");
    }

    String jobSucceeds() throws InterruptedException {
      NixekJob j = create("ok", TestJobs.run("hello", "echo hello"), TestJobs.run("done", "echo done"));
      String failed = awaitJob("ok", Conditions::isTerminal, "Succeeded");
      if (failed != null) {
        return failed;
      }
      NixekJob done = get("ok");
      Condition c = succeeded(done).orElseThrow();
      if (!Conditions.TRUE.equals(c.getStatus())) {
        return "job ended " + c.getReason() + ": " + c.getMessage();
      }
      List<String> reasons = admin.v1().events().inNamespace(ns).list().getItems().stream()
          .filter(e -> j.getMetadata().getName().equals(e.getInvolvedObject().getName()))
          .map(Event::getReason).toList();
      for (String expected : List.of("Launched", "Succeeded", "MachineTerminated")) {
        if (!reasons.contains(expected)) {
          return "job succeeded but has no " + expected + " Event (Events: " + reasons + ")";
        }
      }
      return null;
    }

    String lostMachine() throws InterruptedException {
      create("lost", TestJobs.run("forever", "echo started; sleep 300"));
      String running = awaitJob("lost", this::firstStepRunning, "first step Running");
      if (running != null) {
        return running;
      }
      killAgents(chart.work().resolve("machines").resolve(get("lost").getStatus().instanceId));
      String ended = awaitJob("lost", Conditions::isTerminal, "InstanceLost after its machine was killed");
      if (ended != null) {
        return ended;
      }
      Condition c = succeeded(get("lost")).orElseThrow();
      return "InstanceLost".equals(c.getReason()) ? null : "job ended " + c.getReason() + ", not InstanceLost";
    }

    String deleteRunning() throws InterruptedException {
      create("doomed", TestJobs.run("forever", "echo started; sleep 300"));
      String running = awaitJob("doomed", this::firstStepRunning, "first step Running");
      if (running != null) {
        return running;
      }
      String machine = get("doomed").getStatus().instanceId;
      admin.resources(NixekJob.class).inNamespace(ns).withName("doomed").delete();
      String gone = waitFor(jobTimeout, () -> get("doomed") == null,
          () -> "deleted job still there; finalizers " + get("doomed").getMetadata().getFinalizers());
      if (gone != null) {
        return gone;
      }
      return agentsOf(chart.work().resolve("machines").resolve(machine)).isEmpty() ? null
          : "job gone but its machine still runs";
    }

    String eventRepeat() throws InterruptedException {
      NixekJob about = detachedJob("event-probe");
      EventRecorder events = new EventRecorder(chart.operatorClient(), Clock.systemUTC());
      events.record(about, EventReason.Launched, "probe");
      events.record(about, EventReason.Launched, "probe");
      List<Event> found = admin.v1().events().inNamespace(ns).list().getItems().stream()
          .filter(e -> about.getMetadata().getUid().equals(e.getInvolvedObject().getUid())).toList();
      if (found.isEmpty()) {
        return "no Event recorded";
      }
      Integer count = found.get(0).getCount();
      return found.size() == 1 && Objects.equals(count, 2) ? null
          : "recording twice left " + found.size() + " Event(s), count " + count;
    }

    String tokenRotation() {
      NixekJob about = detachedJob("token-probe");
      JobTokenSecrets secrets = new JobTokenSecrets(chart.operatorClient());
      secrets.ensure(about, "nxkjt_first");
      secrets.ensure(about, "nxkjt_second");
      Secret s = admin.secrets().inNamespace(ns).withName(JobTokenSecrets.secretName(about)).get();
      String stored = new String(Base64.getDecoder().decode(s.getData().get("sha256")), StandardCharsets.US_ASCII);
      return stored.equals(JobTokens.sha256Hex("nxkjt_second")) ? null : "the Secret still holds the first token";
    }

    private NixekJob create(String name, dev.nixek.ci.api.v1alpha1.NixekJobStep... steps) {
      NixekJob j = job(ns, name, steps);
      j.getSpec().machine = null;
      j.getSpec().machineImageName = IMAGE;
      return admin.resources(NixekJob.class).inNamespace(ns).resource(j).create();
    }

    private NixekJob get(String name) {
      return admin.resources(NixekJob.class).inNamespace(ns).withName(name).get();
    }

    private boolean firstStepRunning(dev.nixek.ci.api.v1alpha1.NixekJobStatus s) {
      return s != null && s.steps != null && !s.steps.isEmpty()
          && s.steps.get(0).state == NixekStepStatus.State.Running;
    }

    private String awaitJob(String name, java.util.function.Predicate<dev.nixek.ci.api.v1alpha1.NixekJobStatus> until,
        String what) throws InterruptedException {
      return waitFor(jobTimeout, () -> {
        NixekJob j = get(name);
        return j != null && until.test(j.getStatus());
      }, () -> "no " + what + " within " + jobTimeout.toSeconds() + " s: " + describe(get(name)));
    }

    private NixekJob detachedJob(String name) {
      NixekJob j = new NixekJob();
      j.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).withUid(UUID.randomUUID().toString())
          .build());
      return j;
    }
  }

  // ------------------------------------------------------------------------------------------------ helpers

  static void createReadyImage(KubernetesClient admin, String ns) {
    NixekMachineImage img = new NixekMachineImage();
    img.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(IMAGE).build());
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    spec.machine = "{ pkgs, ... }: { }";
    img.setSpec(spec);
    NixekMachineImage created = admin.resources(NixekMachineImage.class).inNamespace(ns).resource(img).create();
    NixekMachineImageStatus status = new NixekMachineImageStatus();
    status.imageId = "ami-0123456789abcdef0";
    status.conditions = Conditions.with(null, Conditions.READY, Conditions.TRUE, "Ready", "registered", 1L,
        Instant.now());
    created.setStatus(status);
    admin.resources(NixekMachineImage.class).inNamespace(ns).resource(created).updateStatus();
  }

  static String describe(NixekJob j) {
    if (j == null) {
      return "gone";
    }
    Optional<Condition> c = succeeded(j);
    String steps = j.getStatus() == null || j.getStatus().steps == null ? "no steps"
        : j.getStatus().steps.stream().map(s -> s.name + "=" + s.state).toList().toString();
    return c.map(x -> "Succeeded=" + x.getStatus() + " " + x.getReason()).orElse("no condition")
        + (j.getMetadata().getFinalizers() == null || j.getMetadata().getFinalizers().isEmpty() ? ", no finalizer"
            : "") + ", " + steps;
  }

  private static String describe(Lease l) {
    return l == null ? "absent" : "held by " + l.getSpec().getHolderIdentity();
  }

  static Optional<Condition> succeeded(NixekJob j) {
    return j.getStatus() == null ? Optional.empty() : Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED);
  }

  /** Polls {@code done} until {@code within} passes; null when it held, else {@code failure}'s description. */
  static String waitFor(Duration within, Supplier<Boolean> done, Supplier<String> failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        if (done.get()) {
          return null;
        }
      } catch (RuntimeException e) {
        // keep polling: the object may not exist yet
      }
      if (System.nanoTime() > deadline) {
        try {
          return failure.get();
        } catch (RuntimeException e) {
          return "timed out (" + e + ")";
        }
      }
      Thread.sleep(100);
    }
  }

  static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = String.valueOf(t.getMessage());
    java.util.regex.Matcher forbidden = java.util.regex.Pattern
        .compile("cannot (\\w+) resource \"([^\"]+)\" in API group \"([^\"]*)\"").matcher(m);
    if (forbidden.find()) {
      return "403 on " + forbidden.group(1) + " " + (forbidden.group(3).isEmpty() ? "" : forbidden.group(3) + "/")
          + forbidden.group(2);
    }
    if (m.contains("Received 403 on websocket")) {
      String path = m.replaceAll("(?s).*GET at: (\\S+?)\\?.*", "$1");
      return "403 on watch " + path.substring(path.lastIndexOf('/') + 1);
    }
    m = t.getClass().getSimpleName() + ": " + m.replaceAll(" in namespace: [a-z0-9-]+;", ";");
    return m.length() > 160 ? m.substring(0, 160) + "..." : m;
  }

  static Duration since(Instant start) {
    return Duration.between(start, Instant.now());
  }

  /** Agent processes started for machines under {@code dir}. */
  static List<ProcessHandle> agentsOf(Path dir) {
    String prefix = dir.toString();
    return ProcessHandle.allProcesses().filter(h -> h.info().arguments()
        .map(a -> java.util.Arrays.stream(a).anyMatch(x -> x.startsWith(prefix))).orElse(false)).toList();
  }

  static void killAgents(Path dir) {
    for (ProcessHandle h : agentsOf(dir)) {
      h.destroyForcibly();
    }
  }
}
