package dev.nixek.ci.e2e.chart;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import dev.nixek.ci.operator.testing.TestJobs;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.evaluation.EvaluationPods;
import dev.nixek.ci.operator.image.BuilderPods;
import dev.nixek.ci.operator.image.ContentAddressedImageResolver;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.testing.ImageBootingProvider;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.testing.aws.AwsTestClients;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
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
 * goes away with its machine, a finished job goes after its ttlSecondsAfterFinished, a repeated Event bumps its
 * count, a machine image starts its builder pod (and its ConfigMap) and replaces the failed pod on a retry, a job's
 * inline machine gets its image, an unused inline machine's image is collected, a job written in Nix is evaluated in
 * a pod, and its evaluation Secret and token record are removed once the result is recorded, a repository says what
 * is wrong with its token Secret, a repository's commit gets its NixekJob (the commit evaluation pod's answer written
 * by the probe), and a signed webhook delivery to the report API lands in the repository's {@code status.webhook}.
 * Both processes run with the chart's ServiceAccounts; {@code before} can take a permission away first.
 *
 * <p>The images run against the EC2 fake and s3proxy ({@link ImageBackends}): the jobs' image {@value #IMAGE} is
 * made Ready by the operator itself, from an AMI registered under its content-addressed name (the image cache), so
 * no build runs; the builder pod the build probe waits for is never run (no kubelet): the probe fails it by hand.
 */
final class RbacScenario {
  static final String IMAGE = "stand-in";
  /** The operator's nixpkgs pin: never evaluated here (no builder runs), but part of every image's identity. */
  static final String NIXPKGS = "/nix/stub-nixpkgs";
  /** The repository of the repository probes, and its webhook secret. */
  static final String REPO = "app-probe";
  private static final String WEBHOOK_SECRET = "rbac-probe-webhook-secret";

  /** What one probe saw: passed, or the observation that shows it failing. */
  record Result(String probe, boolean passed, String observation, Duration took) {}

  private final KubeApiServer kube;
  private final Path work;
  private final Duration jobTimeout;
  private final ImageBackends aws;

  RbacScenario(KubeApiServer kube, Path work, Duration jobTimeout, ImageBackends aws) {
    this.kube = kube;
    this.work = work;
    this.jobTimeout = jobTimeout;
    this.aws = aws;
  }

  /**
   * Where the operator's images go: the EC2 fake and s3proxy, one of each for every installation of a test class.
   * The operator's AWS SDK takes its credentials from the default chain: here the system properties, set while
   * this is open.
   */
  static final class ImageBackends implements AutoCloseable {
    static final String BUCKET = "nixek-images";
    final FakeEc2 ec2 = FakeEc2.start();
    final S3ProxyServer s3 = S3ProxyServer.builder()
        .credentials(AwsTestClients.DEFAULT_ACCESS_KEY, AwsTestClients.DEFAULT_SECRET_KEY).start()
        .createBucket(BUCKET);
    private final Set<String> seeded = ConcurrentHashMap.newKeySet();
    private final Map<String, String> saved = new HashMap<>();

    ImageBackends() {
      for (Map.Entry<String, String> p : Map.of("aws.accessKeyId", AwsTestClients.DEFAULT_ACCESS_KEY,
          "aws.secretAccessKey", AwsTestClients.DEFAULT_SECRET_KEY).entrySet()) {
        saved.put(p.getKey(), System.getProperty(p.getKey()));
        System.setProperty(p.getKey(), p.getValue());
      }
    }

    /** The chart values pointing the operator's images here, polling fast and collecting every second. */
    String values() {
      return """
          config:
            operator:
              awsRegion: us-east-1
              ec2Endpoint: %s
              s3Endpoint: %s
              s3PathStyle: true
              imageBucket: %s
              imageNixpkgs: %s
              imagePollMinSeconds: 1
              imagePollMaxSeconds: 2
              imageGcIntervalSeconds: 1
              repositoryAllowFileUrls: true
          """.formatted(ec2.endpoint(), s3.endpoint(), BUCKET, NIXPKGS);
    }

    /** Registers the AMI the operator configured by {@code env} finds for {@link TestImages#create}'s image. */
    void seedStandInAmi(Map<String, String> env, String namespace) {
      String name = TestImages.amiName(env, namespace);
      if (seeded.add(name)) {
        ec2.seedImage(name, ec2.seedSnapshot(4, Map.of()), Map.of());
      }
    }

    @Override
    public void close() {
      ec2.close();
      s3.close();
      saved.forEach((k, v) -> {
        if (v == null) {
          System.clearProperty(k);
        } else {
          System.setProperty(k, v);
        }
      });
    }
  }

  private static final Map<String, ChartInstall> INSTALLED = new java.util.concurrent.ConcurrentHashMap<>();

  /** The installation the last run named {@code release} made. */
  static ChartInstall last(String release) {
    return INSTALLED.get(release);
  }

  /** Installs the chart as {@code release}, runs {@code before} on it, then the probes; stops at the first failure. */
  List<Result> run(String release, Consumer<ChartInstall> before, boolean stopAtFirstFailure) throws Exception {
    ChartInstall chart = ChartInstall.install(kube, work, release, "deployment", true, aws.values());
    INSTALLED.put(release, chart);
    KubernetesClient admin = kube.client();
    aws.seedStandInAmi(chart.operatorEnv("operator-0"), chart.jobsNamespace());
    TestImages.create(admin, chart.jobsNamespace(), IMAGE);
    before.accept(chart);
    List<Result> results = new ArrayList<>();
    OperatorConfig config = OperatorConfig.fromEnv(chart.operatorEnv("operator-0"));
    MachineProvider provider = new ImageBootingProvider(Main.provider(config, Clock.systemUTC()));
    Instant start = Instant.now();
    Stack stack;
    try {
      stack = chart.start(provider, Map.of());
    } catch (Exception e) {
      System.out.println(release + ": the stack does not start: " + e.getMessage()); // the whole report API log
      results.add(new Result("starts", false, "operator does not start: " + rootCause(e), since(start)));
      return results;
    }
    try {
      results.add(new Result("starts", true, "", since(start)));
      ProbeRun probes = new ProbeRun(chart, stack, admin, config);
      probes.createBuiltRepository();
      for (Probe p : List.of(
          new Probe("report API ready", probes::reportApiReady),
          new Probe("operator ready", probes::operatorReady),
          new Probe("leads and renews the Lease", probes::leadsAndRenews),
          new Probe("machine image Ready from its cached AMI", probes::standInReady))) {
        Result r = p.run();
        results.add(r);
        if (!r.passed() && stopAtFirstFailure) {
          return results;
        }
      }
      results.addAll(parallel(stopAtFirstFailure,
          new Probe("job on an image succeeds with Events", probes::jobSucceeds),
          new Probe("job gets its Secret, sealed and fetched, masked in its output", probes::jobSecret),
          new Probe("lost machine ends the job InstanceLost", probes::lostMachine),
          new Probe("deleted running job goes, machine terminated", probes::deleteRunning),
          new Probe("finished job goes after its ttlSecondsAfterFinished", probes::ttlAfterFinished),
          new Probe("repeated Event bumps its count", probes::eventRepeat),
          new Probe("machine image builds in a builder pod, replaced on retry", probes::builderPod),
          new Probe("inline machine gets its image", probes::inlineImage),
          new Probe("unused inline machine's image is collected", probes::unusedInlineImage),
          new Probe("job written in Nix: evaluation pod, result recorded, its Secrets deleted", probes::evaluation),
          new Probe("repository reads its token Secret and says what is wrong with it", probes::repositorySecret),
          new Probe("repository's commit gets its NixekJob", probes::repositoryCommitJob),
          new Probe("signed webhook delivery lands in the repository's status.webhook", probes::webhookNudge)));
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
    private final OperatorConfig config;
    private final String ns;
    private volatile String repoCommit;

    ProbeRun(ChartInstall chart, Stack stack, KubernetesClient admin, OperatorConfig config) {
      this.chart = chart;
      this.stack = stack;
      this.admin = admin;
      this.config = config;
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

    String jobSecret() throws InterruptedException {
      String value = "rbac-probe-secret-value";
      admin.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
          .withName("probe-secret").withNamespace(ns).addToLabels("ci.nixek.dev/job-secret", "true").endMetadata()
          .addToStringData("token", value).build()).create();
      NixekJob j = job(ns, "with-secret", TestJobs.run("use", "test \"$T\" = " + value + " && echo \"$T\""));
      j.getSpec().machine = null;
      j.getSpec().machineImageName = IMAGE;
      j.getSpec().secrets = List.of(new dev.nixek.ci.api.v1alpha1.NixekSecretUse("T",
          new dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef("probe-secret", "token"), "env"));
      admin.resources(NixekJob.class).inNamespace(ns).resource(j).create();
      String failed = awaitJob("with-secret", Conditions::isTerminal, "Succeeded");
      if (failed != null) {
        return failed;
      }
      NixekJob done = get("with-secret");
      Condition c = succeeded(done).orElseThrow();
      if (!Conditions.TRUE.equals(c.getStatus())) {
        return "job ended " + c.getReason() + ": " + c.getMessage();
      }
      String tail = done.getStatus().steps.get(0).outputTail;
      return "***\n".equals(tail) ? null : "the step's output is not the masked value: " + tail;
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

    String ttlAfterFinished() throws InterruptedException {
      NixekJob j = job(ns, "short-lived", TestJobs.run("hello", "echo hello"));
      j.getSpec().machine = null;
      j.getSpec().machineImageName = IMAGE;
      j.getSpec().ttlSecondsAfterFinished = 1L;
      admin.resources(NixekJob.class).inNamespace(ns).resource(j).create();
      // it may be gone before a poll sees it finished: its Events tell that it succeeded first
      String gone = waitFor(jobTimeout, () -> get("short-lived") == null,
          () -> "job with ttlSecondsAfterFinished 1 still there: " + describe(get("short-lived")));
      if (gone != null) {
        return gone;
      }
      List<String> reasons = admin.v1().events().inNamespace(ns).list().getItems().stream()
          .filter(e -> "short-lived".equals(e.getInvolvedObject().getName())).map(Event::getReason).toList();
      return reasons.contains("Succeeded") ? null : "job gone without a Succeeded Event (Events: " + reasons + ")";
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

    /** The jobs' image is made Ready by the operator, from the AMI registered under its content-addressed name. */
    String standInReady() throws InterruptedException {
      return waitFor(jobTimeout, () -> imageReason(IMAGE).equals("Ready"),
          () -> "image " + IMAGE + " not Ready within " + jobTimeout.toSeconds() + " s: " + describeBuild(IMAGE));
    }

    /**
     * A new machine image starts its builder pod and the pod's ConfigMap and says so in its status; the pod fails
     * (written here: no kubelet runs it), the image is BuildFailed; after a spec change the failed pod is deleted
     * and a new one started.
     */
    String builderPod() throws InterruptedException {
      var images = admin.resources(NixekMachineImage.class).inNamespace(ns);
      NixekMachineImage image = new NixekMachineImage();
      image.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("build-probe").build());
      image.setSpec(new NixekMachineImageSpec());
      image.getSpec().machine = "# build probe " + UUID.randomUUID() + "\n{ pkgs, ... }: { }";
      images.resource(image).create();
      String started = waitFor(jobTimeout, () -> imageReason("build-probe").equals("Building")
              && builderPod("build-probe") != null
              && admin.configMaps().inNamespace(ns).withName(builderPod("build-probe").getMetadata().getName())
                  .get() != null,
          () -> "no builder pod with its ConfigMap and a Building image within " + jobTimeout.toSeconds() + " s: "
              + describeBuild("build-probe"));
      if (started != null) {
        return started;
      }
      Pod pod = builderPod("build-probe");
      pod.getStatus().setPhase("Failed");
      pod.getStatus().setReason("ProbeFailure");
      pod.getStatus().setMessage("failed by the RBAC probe");
      admin.pods().inNamespace(ns).resource(pod).updateStatus();
      String failed = waitFor(jobTimeout, () -> imageReason("build-probe").equals("BuildFailed"),
          () -> "image not BuildFailed within " + jobTimeout.toSeconds() + " s: " + describeBuild("build-probe"));
      if (failed != null) {
        return failed;
      }
      images.withName("build-probe").edit(i -> {
        i.getSpec().retry = "1";
        return i;
      });
      String failedUid = pod.getMetadata().getUid();
      return waitFor(jobTimeout, () -> {
        Pod p = builderPod("build-probe");
        return p != null && !failedUid.equals(p.getMetadata().getUid()) && imageReason("build-probe").equals("Building");
      }, () -> "the failed builder pod was not replaced after a retry within " + jobTimeout.toSeconds() + " s: "
          + describeBuild("build-probe"));
    }

    /** A job with an inline machine gets the content-addressed image of that machine, made for it. */
    String inlineImage() throws InterruptedException {
      NixekJob j = job(ns, "inline", TestJobs.run("hello", "echo hello"));
      j.getSpec().machine = "# inline probe " + UUID.randomUUID() + "\n{ pkgs, ... }: { }";
      j.getSpec().machineImageName = null;
      admin.resources(NixekJob.class).inNamespace(ns).resource(j).create();
      String name = ContentAddressedImageResolver.inlineImageName(j, config.images()).orElseThrow();
      return waitFor(jobTimeout, () -> admin.resources(NixekMachineImage.class).inNamespace(ns).withName(name)
          .get() != null, () -> "no image " + name + " for the inline machine within " + jobTimeout.toSeconds()
          + " s: " + describe(get("inline")));
    }

    /** An inline machine's image no job uses, marked unused long ago, is deleted by the next collector run. */
    String unusedInlineImage() throws InterruptedException {
      NixekMachineImage image = new NixekMachineImage();
      image.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("unused-inline")
          .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
          .addToLabels(Labels.COMPONENT, ContentAddressedImageResolver.COMPONENT)
          .addToAnnotations(ContentAddressedImageResolver.UNREFERENCED_SINCE, "2000-01-01T00:00:00Z").build());
      image.setSpec(new NixekMachineImageSpec());
      image.getSpec().machine = "# unused " + UUID.randomUUID() + "\n{ pkgs, ... }: { }";
      var images = admin.resources(NixekMachineImage.class).inNamespace(ns);
      images.resource(image).create();
      return waitFor(jobTimeout, () -> images.withName("unused-inline").get() == null,
          () -> "the unused inline image is still there after " + jobTimeout.toSeconds() + " s (finalizers "
              + images.withName("unused-inline").get().getMetadata().getFinalizers() + ")");
    }

    /**
     * A job written in Nix: the operator records the evaluation token's hash in the job's status, creates the pod's
     * Secret and ConfigMap and the evaluation pod; the pod's result is posted here with the pod's token (no kubelet
     * runs it) to the report API, which records it; the operator then deletes the pod's Secret and the token's
     * record, and the token stops working.
     */
    String evaluation() throws Exception {
      NixekJob j = job(ns, "nix-probe");
      j.getSpec().steps = null;
      j.getSpec().machine = null;
      j.getSpec().machineImageName = null;
      j.getSpec().nix = "{ ... }: { steps = [ { name = \"hello\"; run = \"echo hello\"; } ]; }";
      j = admin.resources(NixekJob.class).inNamespace(ns).resource(j).create();
      String pod = EvaluationPods.name(j);
      String started = waitFor(jobTimeout, () -> admin.pods().inNamespace(ns).withName(pod).get() != null
              && admin.configMaps().inNamespace(ns).withName(pod).get() != null
              && admin.secrets().inNamespace(ns).withName(pod).get() != null
              && get("nix-probe").getStatus().evaluationTokenSha256 != null,
          () -> "no evaluation pod with its ConfigMap, Secret and token record within " + jobTimeout.toSeconds()
              + " s: " + describe(get("nix-probe")));
      if (started != null) {
        return started;
      }
      String token = new String(Base64.getDecoder().decode(admin.secrets().inNamespace(ns).withName(pod).get()
          .getData().get("token")), StandardCharsets.US_ASCII);
      String body = "{\"steps\":[{\"name\":\"hello\",\"run\":\"echo hello\"}]}";
      var http = java.net.http.HttpClient.newHttpClient();
      var uri = java.net.URI.create(stack.reportUrl() + "/v1/jobs/" + ns + "/nix-probe/evaluation");
      var request = java.net.http.HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
          .build();
      // as the evaluation pod posts: 503 and 429 again, and 401 for 10 s (the record written a moment ago may not
      // have reached the report API's watch yet); what is still refused after that is the answer
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
      var posted = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
      while ((posted.statusCode() == 401 || posted.statusCode() == 429 || posted.statusCode() == 503)
          && System.nanoTime() < deadline) {
        Thread.sleep(250);
        posted = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
      }
      if (posted.statusCode() != 200) {
        return "the report API answered the evaluation " + posted.statusCode() + ": " + posted.body();
      }
      return waitFor(jobTimeout, () -> {
        NixekJob now = get("nix-probe");
        return now.getStatus().evaluation != null && now.getStatus().evaluation.steps.size() == 1
            && admin.secrets().inNamespace(ns).withName(pod).get() == null
            && now.getStatus().evaluationTokenSha256 == null;
      }, () -> "evaluation recorded " + (get("nix-probe").getStatus().evaluation != null) + ", pod Secret "
          + (admin.secrets().inNamespace(ns).withName(pod).get() == null ? "deleted" : "still there")
          + ", token record " + (get("nix-probe").getStatus().evaluationTokenSha256 == null ? "removed"
              : "still there") + " after " + jobTimeout.toSeconds() + " s: " + describe(get("nix-probe")));
    }

    /**
     * A repository whose token Secret holds an empty value: only an operator that may read the Secret (secrets get)
     * and write the repository's status (nixekrepositories/status patch) says so in its condition.
     */
    String repositorySecret() throws Exception {
      admin.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
          .withName("repo-probe").endMetadata().addToStringData("token", " ").build()).create();
      NixekRepository r = new NixekRepository();
      r.setMetadata(new ObjectMetaBuilder().withName("repo-probe").withNamespace(ns).build());
      r.setSpec(new NixekRepositorySpec());
      r.getSpec().url = "https://127.0.0.1:1/o/r.git";
      r.getSpec().forge = new NixekRepositoryForge();
      r.getSpec().forge.kind = "gitea";
      r.getSpec().tokenSecretRef = new NixekSecretKeyRef("repo-probe", "token");
      admin.resources(NixekRepository.class).inNamespace(ns).resource(r).create();
      return waitFor(jobTimeout, () -> {
        NixekRepository now = admin.resources(NixekRepository.class).inNamespace(ns).withName("repo-probe").get();
        return now.getStatus() != null && Conditions.find(now.getStatus().conditions, Conditions.READY)
            .filter(c -> "SecretInvalid".equals(c.getReason()) && c.getMessage().contains("the value is empty"))
            .isPresent();
      }, () -> "no SecretInvalid (the value is empty) within " + jobTimeout.toSeconds() + " s: "
          + admin.resources(NixekRepository.class).inNamespace(ns).withName("repo-probe").get().getStatus());
    }

    /**
     * The one repository of the repository probes: a local git repository (file://, allowed by the chart value
     * repositoryAllowFileUrls) with one commit on main, and a webhook secret. Made by the admin before the probes.
     */
    void createBuiltRepository() throws Exception {
      java.nio.file.Path src = java.nio.file.Files.createDirectories(chart.work().resolve("repo-src"));
      java.nio.file.Files.writeString(src.resolve("flake.nix"), "{ outputs = _: { ci.jobs.hello = { }; }; }");
      repoCommit = dev.nixek.ci.operator.testing.GitRepos.commitAll(src);
      Process branch = new ProcessBuilder("git", "branch", "-M", "main").directory(src.toFile()).start();
      if (branch.waitFor() != 0) {
        throw new IllegalStateException("git branch -M main failed");
      }
      admin.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata()
          .withName(REPO + "-hook").endMetadata().addToStringData("secret", WEBHOOK_SECRET).build()).create();
      NixekRepository r = new NixekRepository();
      r.setMetadata(new ObjectMetaBuilder().withName(REPO).withNamespace(ns).build());
      r.setSpec(new NixekRepositorySpec());
      r.getSpec().url = "file://" + src;
      r.getSpec().forge = new NixekRepositoryForge();
      r.getSpec().forge.kind = "gitea";
      r.getSpec().branches = List.of("main");
      r.getSpec().pullRequests = new dev.nixek.ci.api.v1alpha1.NixekRepositoryPullRequests();
      r.getSpec().pullRequests.enabled = false;
      r.getSpec().webhookSecretRef = new NixekSecretKeyRef(REPO + "-hook", "secret");
      r.getSpec().pollInterval = "1h";
      admin.resources(NixekRepository.class).inNamespace(ns).resource(r).create();
    }

    /**
     * The repository's commit gets its job: the operator lists the heads, starts the commit evaluation pod, and once
     * the pod answers (the probe plays the kubelet, writing its termination message) creates the NixekJob.
     */
    String repositoryCommitJob() throws InterruptedException {
      var repos = admin.resources(NixekRepository.class).inNamespace(ns);
      NixekRepository repo = repos.withName(REPO).get();
      String pod = dev.nixek.ci.operator.repository.CommitEvaluations.podName(repo, repoCommit, "ci.jobs");
      String started = waitFor(jobTimeout, () -> admin.pods().inNamespace(ns).withName(pod).get() != null,
          () -> "no commit evaluation pod within " + jobTimeout.toSeconds() + " s: " + describeRepo());
      if (started != null) {
        return started;
      }
      admin.pods().inNamespace(ns).withName(pod).editStatus(p -> {
        p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Succeeded")
            .withContainerStatuses(new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
                .withName(EvaluationPods.CONTAINER).withNewState().withNewTerminated().withExitCode(0)
                .withMessage("{\"names\":[\"hello\"]}").endTerminated().endState().build()).build());
        return p;
      });
      String job = dev.nixek.ci.operator.repository.JobNaming.jobName(REPO, repoCommit, "hello");
      return waitFor(jobTimeout, () -> get(job) != null,
          () -> "no job " + job + " for the commit within " + jobTimeout.toSeconds() + " s: " + describeRepo());
    }

    /**
     * A push delivery signed with the repository's webhook secret: the report API (its repository watch) knows the
     * repository and its sealed secret, answers 202 and records the delivery in status.webhook (a status patch).
     */
    String webhookNudge() throws Exception {
      var repos = admin.resources(NixekRepository.class).inNamespace(ns);
      String sealed = waitFor(jobTimeout, () -> repos.withName(REPO).get().getStatus().sealedWebhookSecret != null,
          () -> "the operator sealed no webhook secret within " + jobTimeout.toSeconds() + " s: " + describeRepo());
      if (sealed != null) {
        return sealed;
      }
      String delivery = UUID.randomUUID().toString();
      byte[] body = ("{\"ref\":\"refs/heads/main\",\"after\":\"" + repoCommit + "\",\"repository\":{\"id\":1,"
          + "\"full_name\":\"probe/" + REPO + "\",\"default_branch\":\"main\"}}").getBytes(StandardCharsets.UTF_8);
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      String signature = "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body));
      var http = java.net.http.HttpClient.newHttpClient();
      var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(stack.reportUrl() + "/v1/webhooks/"
              + ns + "/" + REPO)).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json").header("X-GitHub-Event", "push")
          .header("X-GitHub-Delivery", delivery).header("X-Hub-Signature-256", signature)
          .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build();
      // 404 and 503 until the report API's watch has the repository with its sealed secret
      long deadline = System.nanoTime() + jobTimeout.toNanos();
      var answer = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
      while ((answer.statusCode() == 404 || answer.statusCode() == 503) && System.nanoTime() < deadline) {
        Thread.sleep(200);
        answer = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
      }
      if (answer.statusCode() != 202 || !answer.body().contains("accepted")) {
        return "the report API answered the signed delivery " + answer.statusCode() + ": " + answer.body();
      }
      return waitFor(jobTimeout, () -> {
        var w = repos.withName(REPO).get().getStatus().webhook;
        return w != null && delivery.equals(w.deliveryId);
      }, () -> "status.webhook does not record the delivery within " + jobTimeout.toSeconds() + " s: "
          + repos.withName(REPO).get().getStatus().webhook + webhookLog());
    }

    /** What the report API logged about webhooks, for a failure's observation. */
    private String webhookLog() {
      try {
        List<String> lines = stack.reportApiLogs().lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT)
            .contains("webhook")).toList();
        if (lines.isEmpty()) {
          return "";
        }
        String last = lines.get(lines.size() - 1);
        int message = last.indexOf(" - ");
        last = message < 0 ? last : last.substring(message + 3);
        return " (report API: " + (last.length() > 160 ? last.substring(0, 160) + "..." : last) + ")";
      } catch (java.io.IOException e) {
        return "";
      }
    }

    private String describeRepo() {
      NixekRepository r = admin.resources(NixekRepository.class).inNamespace(ns).withName(REPO).get();
      return r == null || r.getStatus() == null ? "no status" : Conditions.find(r.getStatus().conditions,
          Conditions.READY).map(c -> "Ready=" + c.getStatus() + " " + c.getReason() + ": " + c.getMessage())
          .orElse("no condition");
    }

    private Pod builderPod(String image) {
      return admin.pods().inNamespace(ns).withLabel(Labels.COMPONENT, BuilderPods.COMPONENT).list().getItems()
          .stream().filter(p -> (ns + "/" + image).equals(p.getMetadata().getAnnotations()
              .get(BuilderPods.IMAGE_ANNOTATION)))
          .findFirst().orElse(null);
    }

    private String imageReason(String name) {
      NixekMachineImage i = admin.resources(NixekMachineImage.class).inNamespace(ns).withName(name).get();
      return i == null || i.getStatus() == null ? "" : Conditions.find(i.getStatus().conditions, Conditions.READY)
          .map(Condition::getReason).orElse("");
    }

    private String describeBuild(String name) {
      NixekMachineImage i = admin.resources(NixekMachineImage.class).inNamespace(ns).withName(name).get();
      Pod p = builderPod(name);
      String ready = i == null || i.getStatus() == null ? "no status" : Conditions.find(i.getStatus().conditions,
          Conditions.READY).map(c -> "Ready=" + c.getStatus() + " " + c.getReason()).orElse("no condition");
      return ready + (i != null && (i.getMetadata().getFinalizers() == null
          || i.getMetadata().getFinalizers().isEmpty()) ? ", no finalizer" : "")
          + ", " + (p == null ? "no pod" : "pod " + (p.getStatus() == null ? "?" : p.getStatus().getPhase()));
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
