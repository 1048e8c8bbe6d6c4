package dev.nixek.ci.operator.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.status.OutputTail;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.operator.logs.JobLogCleanup;
import dev.nixek.ci.operator.testing.Ec2TestEnv;
import dev.nixek.ci.operator.testing.InMemoryLogStore;
import dev.nixek.ci.operator.testing.InProcessOperator;
import dev.nixek.ci.operator.testing.Reports;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a real kube-apiserver with the EC2 fake: a running job's status written as the report API writes a printing
 * step's output (tail and counters only) wakes no reconcile, so no {@code DescribeInstances}; a step's state change
 * does. And a deleted job's step logs are deleted by its finalizer, once its machine is terminated.
 *
 * <p>The operator polls a running job only once an hour here, so every {@code DescribeInstances} in the window comes
 * from a reconcile an update woke.
 */
@ExtendWith(KubeApiServerExtension.class)
class OutputUpdatesIT {
  private static final String IMAGE = "output-image";
  private static final int TAIL_WRITES = 40;

  private KubernetesClient client;
  private String ns;
  private FakeEc2 ec2;
  private InProcessOperator operator;
  private final InMemoryLogStore logs = new InMemoryLogStore();

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    Path home = Path.of(System.getProperty("nixek.home", "../.."));
    try (Stream<Path> crds = Files.list(home.resolve("charts/nixek-ci/crds"))) {
      server.applyServerSide(crds.sorted().toArray(Path[]::new));
    }
    server.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/nixekjobs.ci.nixek.dev").orThrow();
    server.kubectl("wait", "--for=condition=Established", "--timeout=30s",
        "crd/nixekmachineimages.ci.nixek.dev").orThrow();
    server.kubectl("wait", "--for=condition=Established", "--timeout=30s",
        "crd/nixekrepositories.ci.nixek.dev").orThrow();
  }

  @BeforeEach
  void start(KubeApiServer server, TestNamespace namespace) throws Exception {
    client = server.client();
    ns = namespace.name();
    ec2 = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
    Map<String, String> env = Ec2TestEnv.with(Ec2TestEnv.operatorEnv(ec2.endpoint(), ns), Map.of(
        "NIXEK_WATCH_NAMESPACES", ns, "NIXEK_POLL_SECONDS", "3600"));
    TestImages.ready(client, ns, IMAGE, ec2.seedImage(TestImages.amiName(env, ns), ec2.seedSnapshot(4, Map.of()),
        Map.of()));
    operator = new InProcessOperator(client, env).logStore(logs).start();
  }

  @AfterEach
  void stop() {
    operator.close();
    ec2.close();
  }

  private NixekJob launched(String name) {
    NixekJob j = TestJobs.job(ns, name, TestJobs.run("build", "yes"), TestJobs.run("test", "true"));
    j.getSpec().machine = null;
    j.getSpec().machineImageName = IMAGE;
    client.resources(NixekJob.class).inNamespace(ns).resource(j).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> get(name).getStatus() != null
        && get(name).getStatus().instanceId != null);
    return get(name);
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private int describes() {
    return ec2.calls("DescribeInstances").size();
  }

  /** Waits until no DescribeInstances came for {@code quiet}; returns the count. */
  private int settled(Duration quiet) throws InterruptedException {
    int before;
    int after = describes();
    do {
      before = after;
      Thread.sleep(quiet.toMillis());
      after = describes();
    } while (after != before);
    return after;
  }

  /** Writes step 0's output fields as the report API's status flusher does after chunk {@code seq}. */
  private void chunk(String name, long seq, String text) {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    ReportOutcome outcome = new StepsWriter(client).update(ns, name, j -> {
      List<NixekStepStatus> steps = new ArrayList<>();
      j.getStatus().steps.forEach(st -> steps.add(StepReports.copy(st)));
      NixekStepStatus step = steps.get(0);
      step.outputTail = OutputTail.append(step.outputTail, data, 4096);
      step.outputBytes = (seq + 1) * data.length;
      step.outputChunks = seq + 1;
      return new ReportOutcome.Applied(steps);
    });
    assertThat(outcome).isInstanceOf(ReportOutcome.Applied.class);
  }

  @Test
  void tailOnlyWritesWakeNoReconcileAndAStateChangeDoes() throws Exception {
    String name = "printing";
    launched(name);
    new Reports(client).step(ns, name, 0, null);
    await().atMost(Duration.ofSeconds(30)).until(() -> "1/2".equals(get(name).getStatus().currentStep));
    int quiet = settled(Duration.ofSeconds(2));
    String rv = get(name).getMetadata().getResourceVersion();

    for (int seq = 0; seq < TAIL_WRITES; seq++) {
      chunk(name, seq, "y\n".repeat(64));
    }
    NixekJob written = get(name);
    assertThat(written.getStatus().steps.get(0).outputChunks).isEqualTo(TAIL_WRITES);
    assertThat(written.getMetadata().getResourceVersion()).isNotEqualTo(rv);
    // long enough for every woken reconcile to have run (each one describes the instance)
    Thread.sleep(3000);
    assertThat(describes() - quiet).as("DescribeInstances after %d tail-only status writes", TAIL_WRITES).isZero();

    // the step ends as the agent ends it: with the byte count of every chunk it sent
    ReportOutcome finished = new StepsWriter(client).update(ns, name, j -> StepReports.finished(
        EffectiveSteps.orEmpty(j), j.getStatus().steps, 0, new StepFinished(0, Instant.now().toString(),
            j.getStatus().steps.get(0).outputBytes, false)));
    assertThat(finished).isInstanceOf(ReportOutcome.Applied.class);
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(describes()).as(
        "DescribeInstances after step 0 finished").isGreaterThan(quiet));
    // the same reconcile moved on to the next step
    new Reports(client).step(ns, name, 1, null);
    await().atMost(Duration.ofSeconds(15)).until(() -> "2/2".equals(get(name).getStatus().currentStep));
  }

  @Test
  void aDeletedJobsLogsAreDeletedOnceItsMachineIsTerminated() throws Exception {
    NixekJob job = launched("deleted");
    NixekJob other = launched("kept");
    JobLogs deleted = JobLogCleanup.of(job);
    JobLogs kept = JobLogCleanup.of(other);
    logs.put(deleted.step(0), 0, 0, "hello\n".getBytes(StandardCharsets.UTF_8));
    logs.put(deleted.step(1), 0, 0, "world\n".getBytes(StandardCharsets.UTF_8));
    logs.put(kept.step(0), 0, 0, "stays\n".getBytes(StandardCharsets.UTF_8));

    client.resources(NixekJob.class).inNamespace(ns).withName("deleted").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> get("deleted") == null);

    assertThat(logs.has(deleted)).isFalse();
    assertThat(logs.has(kept)).isTrue();
    assertThat(logs.deletes).containsExactly(deleted);
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).allSatisfy(i -> assertThat(Ec2TestEnv.terminating(
        ec2.instance(i.instanceId()).orElseThrow())).isTrue());
    assertThat(logs.jobs()).hasSize(1);
  }
}
