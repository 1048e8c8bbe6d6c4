package dev.nixek.ci.e2e.ec2;

import static dev.nixek.ci.operator.testing.TestJobs.command;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.testing.Ec2TestEnv;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.imds.FakeImds;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ec2 provider end to end: a job on a Ready image → RunInstances → the instance's guest boots the real agent jar,
 * which reads its config from user-data through IMDSv2, runs the steps and reports them to the report API (its own
 * process) → the job's condition → the instance ends terminated. Timeouts, cancellation, deletion, a lost instance,
 * a lost poweroff and orphan collection each assert the condition's reason and that the instance ends terminated.
 *
 * <p>Parameterised by how the cluster is obtained ({@link #client()}, {@link #kubeconfig(Path)}, {@link #useSsa()})
 * and by the EC2 endpoint ({@link #startEc2(Path)}): the same scenarios run on the fabric8 mock API server today and
 * can run on a real kube-apiserver (testing/kube-harness) by adding a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class Ec2EndToEndBase {
  static final String IMAGE = "e2e-image";

  @TempDir
  static Path work;
  Ec2Side ec2;
  Stack stack;

  /** The cluster's client. */
  protected abstract KubernetesClient client();

  /** A kubeconfig file for the report API process. */
  protected abstract Path kubeconfig(Path dir) throws Exception;

  /** Whether the operator uses server-side apply (production; not on the mock). */
  protected abstract boolean useSsa();

  protected abstract Ec2Side startEc2(Path dir);

  /** The namespace of the jobs (and the operator's own objects). */
  protected String namespace() {
    return "default";
  }

  /** More operator settings for this cluster. */
  protected Map<String, String> clusterEnv() {
    return Map.of();
  }

  @BeforeAll
  void startStack() throws Exception {
    TestJobs.createCrds(client());
    ec2 = startEc2(work);
    TestImages.ready(client(), namespace(), IMAGE, ec2.imageId());
    Map<String, String> env = new HashMap<>(Ec2TestEnv.operatorEnv(ec2.endpoint(), namespace()));
    env.putAll(ec2.operatorEnv());
    env.put("NIXEK_USE_SSA", Boolean.toString(useSsa()));
    env.putAll(clusterEnv());
    env.put("NIXEK_BOOT_TIMEOUT_SECONDS", "20");
    env.put("NIXEK_COLLECTOR_INTERVAL_SECONDS", "1");
    env.put("NIXEK_COLLECTOR_GRACE_SECONDS", "2");
    stack = Stack.start(client(), kubeconfig(work), work, useSsa(), env);
  }

  @AfterAll
  void stopStack() throws Exception {
    if (stack != null) {
      stack.close();
    }
    if (ec2 != null) {
      ec2.close();
    }
  }

  @Test
  void aJobRunsOnItsOwnInstanceWhichEndsTerminated() {
    NixekJob j = job("hello", run("greet", "echo \"hello $WHO\""), run("build", "echo built > out.txt"),
        command("test", "cat", "out.txt"));
    j.getSpec().env = Map.of("WHO", "nixek");
    ec2.slowShutdownFor("hello"); // the guest waits for its agent's own poweroff, checked below
    NixekJob created = create(j);
    NixekJob done = awaitTerminal("hello");
    assertThat(condition(done).getStatus()).as(condition(done).getMessage()).isEqualTo("True");
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(NixekStepStatus.State.Succeeded);
    assertThat(done.getStatus().steps.get(0).outputTail).isEqualTo("hello nixek\n");
    assertThat(done.getStatus().steps.get(2).outputTail).isEqualTo("built\n");
    assertThat(done.getStatus().imageId).isEqualTo(ec2.imageId());

    Ec2Side.Instance instance = awaitOnlyInstanceTerminated(created);
    assertThat(instance.id()).isEqualTo(done.getStatus().instanceId);
    assertThat(instance.clientToken()).isEqualTo(done.getStatus().launchToken);
    assertThat(instance.tags()).containsEntry("nixek.dev/job-uid", created.getMetadata().getUid())
        .containsEntry("nixek.dev/job-namespace", namespace()).containsEntry("nixek.dev/job-name", "hello")
        .containsEntry("nixek.dev/cluster-id", Ec2TestEnv.CLUSTER_ID)
        .containsEntry("nixek.dev/managed-by", "nixek-ci");
    assertThat(instance.httpTokens()).isEqualTo("required");
    assertThat(instance.hopLimit()).isEqualTo(1);
    // the agent read user-data through IMDSv2 (a session token first) and powered the machine off
    AgentGuest guest = ec2.guest(instance.id()).orElseThrow();
    assertThat(guest.imdsRequests()).extracting(FakeImds.Request::method, FakeImds.Request::path,
        FakeImds.Request::status).contains(
            org.assertj.core.groups.Tuple.tuple("PUT", "/latest/api/token", 200),
            org.assertj.core.groups.Tuple.tuple("GET", "/latest/user-data", 200));
    assertThat(guest.imdsRequests()).filteredOn(r -> r.path().equals("/latest/user-data"))
        .allSatisfy(r -> assertThat(r.hadToken()).isTrue());
    await().atMost(Duration.ofSeconds(30)).until(guest::poweredOff);
  }

  @Test
  void aFailingStepFailsTheJobAndTheInstanceEndsTerminated() {
    NixekJob created = create(job("failing", run("ok", "true"), run("broken", "echo oops >&2; exit 4")));
    NixekJob done = awaitTerminal("failing");
    assertThat(condition(done).getReason()).isEqualTo("StepFailed");
    assertThat(condition(done).getMessage()).isEqualTo("step 'broken' (2/2) failed with exit code 4");
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void theJobsTimeLimitTerminatesTheInstance() {
    NixekJob j = job("slow", run("sleep", "sleep 600"));
    j.getSpec().timeoutSeconds = 6L;
    NixekJob created = create(j);
    NixekJob done = awaitTerminal("slow");
    assertThat(condition(done).getReason()).isEqualTo("TimedOut");
    assertThat(condition(done).getMessage()).contains("longer than 6s");
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void aStepTimeoutEnforcedByTheAgentFailsTheJobAndTheInstanceEndsTerminated() {
    NixekJobStep step = run("sleepy", "sleep 600");
    step.timeoutSeconds = 2L;
    NixekJob created = create(job("step-timeout", step, run("never", "true")));
    NixekJob done = awaitTerminal("step-timeout");
    assertThat(condition(done).getReason()).isEqualTo("StepFailed");
    assertThat(condition(done).getMessage()).isEqualTo("step 'sleepy' (1/2) timed out (exit code 124)");
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void anAgentThatNeverReportsEndsTheJobAfterTheBootTimeout() {
    ec2.noAgentFor("silent");
    NixekJob created = create(job("silent", run("a", "true")));
    NixekJob done = awaitTerminal("silent");
    assertThat(condition(done).getReason()).isEqualTo("AgentNeverReported");
    assertThat(condition(done).getMessage()).contains("no report within 20s");
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void cancellingARunningJobTerminatesItsInstance() {
    NixekJob created = create(job("cancel-me", run("sleep", "sleep 600")));
    awaitStepRunning("cancel-me");
    TestJobs.cancel(client(), namespace(), "cancel-me");
    NixekJob done = awaitTerminal("cancel-me");
    assertThat(condition(done).getReason()).isEqualTo("Cancelled");
    Ec2Side.Instance i = awaitOnlyInstanceTerminated(created);
    await().atMost(Duration.ofSeconds(30)).until(() -> !ec2.guest(i.id()).orElseThrow().running());
  }

  @Test
  void deletingARunningJobTerminatesItsInstanceBeforeTheJobGoes() {
    NixekJob created = create(job("doomed", run("sleep", "sleep 600")));
    awaitStepRunning("doomed");
    client().resources(NixekJob.class).inNamespace(namespace()).withName("doomed").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> get("doomed") == null);
    assertThat(ec2.instancesOfJob(created.getMetadata().getUid())).singleElement()
        .satisfies(i -> assertThat(i.terminating()).as("shutting down or terminated when the finalizer went: %s", i)
            .isTrue());
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void anInstanceKilledUnderARunningJobIsInstanceLost() {
    NixekJob created = create(job("lost", run("sleep", "sleep 600"), run("after", "true")));
    NixekJob running = awaitStepRunning("lost");
    ec2.terminateExternally(running.getStatus().instanceId);
    NixekJob done = awaitTerminal("lost");
    assertThat(condition(done).getReason()).isEqualTo("InstanceLost");
    assertThat(condition(done).getMessage()).contains(running.getStatus().instanceId);
    awaitOnlyInstanceTerminated(created);
  }

  /**
   * The report API refuses the agent's report (here: step 0 is marked finished behind the agent's back, so its own
   * `finished` is a 409); the agent stops and exits 4. On EC2 the operator then sees only an instance that powered
   * off — the job's InstanceLost message quotes the agent's account, which it posted before exiting.
   */
  @Test
  void aRefusedReportEndsTheJobWithTheAgentsAccount() {
    NixekJob created = create(job("refused", run("slow", "sleep 4; echo done"), run("after", "true")));
    awaitStepRunning("refused");
    // what a conflicting writer (a bug, a hostile co-tenant with write access to status) could do
    new StepsWriter(client()).update(namespace(), "refused", j -> {
      List<NixekStepStatus> steps = new ArrayList<>();
      j.getStatus().steps.forEach(st -> steps.add(StepReports.copy(st)));
      steps.get(0).state = NixekStepStatus.State.Succeeded;
      steps.get(0).exitCode = 0;
      steps.get(0).finishTime = "2026-12-07T00:00:00Z";
      return new ReportOutcome.Applied(steps);
    });
    NixekJob done = awaitTerminal("refused");
    assertThat(condition(done).getReason()).isEqualTo("InstanceLost");
    assertThat(done.getStatus().agentEnded).as("status.agentEnded").isNotNull();
    assertThat(done.getStatus().agentEnded.exitCode).isEqualTo(4);
    assertThat(condition(done).getMessage())
        .contains("the agent stopped the job with exit code 4: the report API refused a report")
        .containsPattern("/steps/0/(output|finished) answered 409");
    awaitOnlyInstanceTerminated(created);
  }

  @Test
  void anInstanceWhosePoweroffFailedIsTerminatedByTheOperator() {
    ec2.guestPoweroffFails(true);
    try {
      NixekJob created = create(job("no-poweroff", run("ok", "echo ok")));
      NixekJob done = awaitTerminal("no-poweroff");
      assertThat(condition(done).getReason()).isEqualTo("Succeeded");
      Ec2Side.Instance i = awaitOnlyInstanceTerminated(created);
      await().atMost(Duration.ofSeconds(30)).until(() -> ec2.guest(i.id()).orElseThrow().poweredOff());
    } finally {
      ec2.guestPoweroffFails(false);
    }
  }

  @Test
  void theCollectorTerminatesOrphansOfThisClusterOnly() throws Exception {
    // a job force-deleted (finalizer stripped) while the operator is down: its machine is nobody's now
    NixekJob created = create(job("forced", run("sleep", "sleep 600")));
    String instanceId = awaitStepRunning("forced").getStatus().instanceId;
    stack.stopOperator();
    var r = client().resources(NixekJob.class).inNamespace(namespace()).withName("forced");
    r.edit(j -> {
      j.getMetadata().setFinalizers(null);
      return j;
    });
    r.delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> get("forced") == null);
    // instances tagged for this cluster whose job never existed here, and one of another cluster
    String foreign = ec2.launchForeign(Ec2TestEnv.CLUSTER_ID, UUID.randomUUID().toString());
    String otherCluster = ec2.launchForeign("another-cluster", UUID.randomUUID().toString());
    assertThat(ec2.instance(instanceId).orElseThrow().terminating()).as("nothing terminated it yet").isFalse();
    stack.startOperator();

    awaitOnlyInstanceTerminated(created);
    await().atMost(Duration.ofSeconds(60)).until(() -> ec2.instance(foreign).orElseThrow().state().equals("terminated"));
    assertThat(ec2.instance(otherCluster).orElseThrow().terminating()).as("another cluster's instance").isFalse();
    ec2.terminateExternally(otherCluster);
  }

  // ---------------------------------------------------------------- helpers

  NixekJob job(String name, NixekJobStep... steps) {
    NixekJob j = TestJobs.job(namespace(), name, steps);
    j.getSpec().machine = null;
    j.getSpec().machineImageName = IMAGE;
    return j;
  }

  NixekJob create(NixekJob j) {
    return client().resources(NixekJob.class).inNamespace(namespace()).resource(j).create();
  }

  NixekJob get(String name) {
    return client().resources(NixekJob.class).inNamespace(namespace()).withName(name).get();
  }

  NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(120)).until(() -> Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  NixekJob awaitStepRunning(String name) {
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      NixekJob j = get(name);
      return j.getStatus() != null && j.getStatus().steps != null
          && j.getStatus().steps.get(0).state == NixekStepStatus.State.Running;
    });
    return get(name);
  }

  /** Waits until the job's only instance is terminated (not just shutting down). */
  Ec2Side.Instance awaitOnlyInstanceTerminated(NixekJob job) {
    String uid = job.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(ec2.instancesOfJob(uid)).singleElement()
        .satisfies(i -> assertThat(i.state()).isEqualTo("terminated")));
    return ec2.instancesOfJob(uid).get(0);
  }

  static Condition condition(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }

  /** A kubeconfig for the fabric8 mock server (it accepts any token). */
  static Path mockKubeconfig(KubernetesClient client, Path dir) throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, Stack.kubeconfig(client.getMasterUrl().toString(), "mock"));
    return kubeconfig;
  }

  static List<String> names(List<NixekJob> jobs) {
    return jobs.stream().map(j -> j.getMetadata().getName()).toList();
  }
}
