package dev.nixek.ci.operator.aws;

import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.job.CrashPoints;
import dev.nixek.ci.operator.job.CrashPoints.Point;
import dev.nixek.ci.operator.machine.MachineCollector;
import dev.nixek.ci.operator.testing.CrashAt;
import dev.nixek.ci.operator.testing.Ec2TestEnv;
import dev.nixek.ci.operator.testing.InProcessOperator;
import dev.nixek.ci.operator.testing.Reports;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.ec2.InstanceState;
import dev.nixek.ci.testing.aws.ec2.Views.InstanceView;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Launch faults with the operator as {@code Main} builds it (ec2 provider, fabric8 mock API server, {@link FakeEc2}):
 * EC2 throttling and server errors, eventual consistency, a 409 on the status write after launch, spot capacity,
 * a token whose instance was terminated before it was recorded, changed parameters on replay, oversized user-data,
 * a job waiting for its image, the max-lifetime reaper.
 */
@EnableKubernetesMockClient(crud = true)
class Ec2LaunchFaultsIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private static final String IMAGE = "img";
  private static FakeEc2 ec2;
  private static Ec2Client sdk;
  private static String imageId;
  private InProcessOperator operator;
  private Reports reports;

  @BeforeAll
  static void startEc2() {
    ec2 = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
    sdk = ec2.ec2Client();
    // under the image's namespace: the trust domain is part of the AMI name the image reconciler looks up
    imageId = ec2.seedImage(TestImages.amiName(Ec2TestEnv.operatorEnv(URI.create("http://unused"), "unused"), NS),
        ec2.seedSnapshot(4, Map.of()), Map.of());
  }

  @AfterAll
  static void stopEc2() {
    sdk.close();
    ec2.close();
  }

  @BeforeEach
  void cluster() {
    TestJobs.createCrds(client);
    if (client.resources(dev.nixek.ci.api.v1alpha1.NixekMachineImage.class).inNamespace(NS).withName(IMAGE)
        .get() == null) {
      TestImages.ready(client, NS, IMAGE, imageId);
    }
    ec2.faults().clear();
    operator = new InProcessOperator(client, Ec2TestEnv.operatorEnv(ec2.endpoint(), NS));
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    operator.stop();
    ec2.faults().clear();
    ec2.reset();
    TestJobs.deleteAll(client);
  }

  @Test
  void throttlingAndServerErrorsOnRunAndDescribeStillGiveExactlyOneInstance() throws Exception {
    ec2.faults().throttle("RunInstances", 4).serverError("RunInstances", 3)
        .throttle("DescribeInstances", 4).serverError("DescribeInstances", 3);
    operator.start();
    NixekJob job = create("throttled");
    NixekJob running = awaitReason("throttled", "Running");
    succeed("throttled");
    awaitTerminated("throttled", "Succeeded");

    assertThat(runCalls(job)).as("every fault was met, and every call carried the job's token")
        .hasSizeGreaterThanOrEqualTo(8)
        .extracting(c -> c.params().get("ClientToken")).containsOnly(running.getStatus().launchToken);
    assertThat(ec2.calls("DescribeInstances")).filteredOn(c -> c.errorCode() != null).hasSizeGreaterThanOrEqualTo(7);
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).singleElement()
        .satisfies(i -> assertThat(Ec2TestEnv.terminating(i)).isTrue());
  }

  @Test
  void notFoundForTenSecondsAfterLaunchIsNeitherALostInstanceNorATerminatedOne() throws Exception {
    ec2.faults().notFoundFor("DescribeInstances", Duration.ofSeconds(10))
        .notFoundFor("TerminateInstances", Duration.ofSeconds(10));
    operator.start();
    NixekJob running = create("consistent");
    NixekJob cancelled = create("cancel-early");
    String runningId = awaitReason("consistent", "Running").getStatus().instanceId;
    awaitReason("cancel-early", "Running");
    // cancelled while EC2 still says "not found": the job ends, but the machine is not taken as terminated
    edit("cancel-early", j -> j.getSpec().cancel = true);
    awaitReason("cancel-early", "Cancelled");
    assertThat(get("cancel-early").getStatus().machineTerminated).isNull();

    // wait out the window; all the while the job kept running
    Instant launched = ec2.instance(runningId).orElseThrow().launchTime();
    await().atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(launched.plusSeconds(11)));
    assertThat(reason("consistent")).isEqualTo("Running");
    assertThat(ec2.calls("DescribeInstances")).filteredOn(c -> "InvalidInstanceID.NotFound".equals(c.errorCode()))
        .isNotEmpty();

    succeed("consistent");
    awaitTerminated("consistent", "Succeeded");
    awaitTerminated("cancel-early", "Cancelled");
    assertThat(Ec2TestEnv.instancesOf(ec2, running)).singleElement().satisfies(i ->
        assertThat(Ec2TestEnv.terminating(i)).isTrue());
    assertThat(Ec2TestEnv.instancesOf(ec2, cancelled)).singleElement().satisfies(i ->
        assertThat(Ec2TestEnv.terminating(i)).isTrue());
  }

  @Test
  void aConflictOnTheStatusWriteAfterLaunchStillGivesExactlyOneInstance() throws Exception {
    String name = "conflict";
    String statusPath = "/apis/ci.nixek.dev/v1alpha1/namespaces/" + NS + "/nixekjobs/" + name + "/status";
    CrashPoints arm409 = (point, job) -> {
      if (point == Point.TOKEN_PERSISTED && name.equals(job.getMetadata().getName())) {
        // the next status write, the one recording the instance id, is refused as a lost race would be
        server.expect().patch().withPath(statusPath).andReturn(409, """
            {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,
             "message":"Operation cannot be fulfilled: the object has been modified"}""").once();
      }
    };
    operator.start(arm409);
    NixekJob job = create(name);
    NixekJob running = awaitReason(name, "Running");
    assertThat(runCalls(job)).as("the launch was replayed after the 409, with the same token").hasSize(2)
        .extracting(c -> c.params().get("ClientToken")).containsOnly(running.getStatus().launchToken);
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).singleElement()
        .satisfies(i -> assertThat(i.instanceId()).isEqualTo(running.getStatus().instanceId));
    succeed(name);
    awaitTerminated(name, "Succeeded");
  }

  @Test
  void spotCapacityErrorsFallBackToOnDemandWithARecordedToken() throws Exception {
    operator.set("NIXEK_EC2_SPOT", "true");
    ec2.faults().insufficientSpotCapacity(50);
    operator.start();
    NixekJob job = create("spot");
    NixekJob running = awaitReason("spot", "Running");
    assertThat(running.getStatus().launchToken).isEqualTo("nixek-" + job.getMetadata().getUid() + "-1-od");
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).singleElement().satisfies(i -> assertThat(i.spot()).isFalse());
    assertThat(eventReasons("spot")).contains("SpotUnavailable");
    succeed("spot");
    awaitTerminated("spot", "Succeeded");
  }

  @Test
  void spotWithCapacityLaunchesSpot() throws Exception {
    operator.set("NIXEK_EC2_SPOT", "true");
    operator.start();
    NixekJob job = create("spot-ok");
    NixekJob running = awaitReason("spot-ok", "Running");
    assertThat(running.getStatus().launchToken).doesNotEndWith("-od");
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).singleElement().satisfies(i -> assertThat(i.spot()).isTrue());
  }

  @Test
  void aCrashAroundTheSpotFallbackStillGivesExactlyOneInstance() throws Exception {
    operator.set("NIXEK_EC2_SPOT", "true");
    ec2.faults().insufficientSpotCapacity(50);
    // (b) of the fallback: the on-demand token is recorded, the on-demand launch not made yet; (c): launched
    for (Map.Entry<String, CrashAt> e : Map.of(
        "spot-crash-b", new CrashAt(Point.TOKEN_PERSISTED, "spot-crash-b", 2),
        "spot-crash-c", new CrashAt(Point.LAUNCHED, "spot-crash-c")).entrySet()) {
      operator.start(e.getValue());
      NixekJob job = create(e.getKey());
      assertThat(e.getValue().awaitCrash(30)).isTrue();
      operator.stop();
      // capacity is back: were the spot token replayed, it would now launch a spot instance
      ec2.faults().clear();
      operator.start();
      NixekJob running = awaitReason(e.getKey(), "Running");
      assertThat(running.getStatus().launchToken).endsWith("-od");
      assertThat(Ec2TestEnv.instancesOf(ec2, job)).as(e.getKey()).singleElement()
          .satisfies(i -> assertThat(i.spot()).isFalse());
      operator.stop();
      ec2.faults().insufficientSpotCapacity(50);
    }
  }

  @Test
  void anInstanceTerminatedBeforeItWasRecordedIsReplacedByOneNewAttempt() throws Exception {
    CrashAt crash = new CrashAt(Point.LAUNCHED, "relaunch");
    operator.start(crash);
    NixekJob job = create("relaunch");
    assertThat(crash.awaitCrash(30)).isTrue();
    operator.stop();
    // while the operator is down, the unrecorded instance dies (spot interruption, someone's cleanup script)
    InstanceView first = Ec2TestEnv.instancesOf(ec2, job).get(0);
    sdk.terminateInstances(r -> r.instanceIds(first.instanceId()));
    await().until(() -> ec2.instance(first.instanceId()).orElseThrow().state() == InstanceState.TERMINATED);

    operator.start();
    NixekJob running = awaitReason("relaunch", "Running");
    assertThat(running.getStatus().attempt).isEqualTo(2);
    assertThat(running.getStatus().launchToken).isEqualTo("nixek-" + job.getMetadata().getUid() + "-2");
    assertThat(running.getStatus().instanceId).isNotEqualTo(first.instanceId());
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).hasSize(2).filteredOn(i -> !Ec2TestEnv.terminating(i)).hasSize(1);
    assertThat(eventReasons("relaunch")).contains("Relaunching");
    succeed("relaunch");
    awaitTerminated("relaunch", "Succeeded");
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).allSatisfy(i -> assertThat(Ec2TestEnv.terminating(i)).isTrue());
  }

  @Test
  void anInstanceTerminatedBeforeItWasRecordedAfterItsAgentReportedIsLost() throws Exception {
    CrashAt crash = new CrashAt(Point.LAUNCHED, "reported");
    operator.start(crash);
    NixekJob job = create("reported");
    assertThat(crash.awaitCrash(30)).isTrue();
    operator.stop();
    reports.step(NS, "reported", 0, null); // the agent on the unrecorded instance started a step
    InstanceView first = Ec2TestEnv.instancesOf(ec2, job).get(0);
    sdk.terminateInstances(r -> r.instanceIds(first.instanceId()));
    await().until(() -> ec2.instance(first.instanceId()).orElseThrow().state() == InstanceState.TERMINATED);

    operator.start();
    NixekJob lost = awaitReason("reported", "InstanceLost");
    assertThat(condition(lost).getMessage()).contains("terminated before the job recorded it").contains("not run twice");
    assertThat(lost.getStatus().machineTerminated).isTrue();
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).hasSize(1);
  }

  @Test
  void changedLaunchParametersOnReplayFailTheJobOnceAndTerminateItsMachine() throws Exception {
    CrashAt crash = new CrashAt(Point.LAUNCHED, "mismatch");
    operator.start(crash);
    NixekJob job = create("mismatch");
    assertThat(crash.awaitCrash(30)).isTrue();
    operator.stop();
    operator.set("NIXEK_EC2_INSTANCE_TYPE", "m7i.xlarge"); // the operator comes back with other settings
    operator.start();
    NixekJob failed = awaitReason("mismatch", "LaunchFailed");
    assertThat(condition(failed).getMessage()).contains("IdempotentParameterMismatch");
    await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(get("mismatch").getStatus().machineTerminated));
    assertThat(Ec2TestEnv.instancesOf(ec2, job)).singleElement()
        .satisfies(i -> assertThat(Ec2TestEnv.terminating(i)).as("found by its token and terminated").isTrue());
    Thread.sleep(3000); // three poll intervals: nothing launches again
    assertThat(runCalls(job)).hasSize(2);
  }

  @Test
  void userDataOver16KbFailsTheJobNamingTheLimitWithoutCallingEc2() throws Exception {
    operator.start();
    NixekJob j = imageJob("huge");
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      env.put("VAR_" + i, "x".repeat(40));
    }
    j.getSpec().env = env;
    client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
    NixekJob failed = awaitReason("huge", "LaunchFailed");
    assertThat(condition(failed).getMessage()).contains("16384").contains("user-data");
    assertThat(ec2.calls("RunInstances")).isEmpty();
  }

  @Test
  void aJobWaitingForItsImageLaunchesWhenTheImageBecomesReady() throws Exception {
    operator.set("NIXEK_POLL_SECONDS", "600"); // only the image's event can wake the job in time
    operator.start();
    TestImages.create(client, NS, "later");
    NixekJob j = imageJob("waits");
    j.getSpec().machineImageName = "later";
    client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
    awaitReason("waits", "WaitingForImage");
    TestImages.markReady(client, NS, "later", imageId);
    NixekJob running = awaitReason("waits", "Running");
    assertThat(running.getStatus().imageId).isEqualTo(imageId);
  }

  @Test
  void theReaperTerminatesAMachineOlderThanItsJobsTimeLimitPlusSlack() throws Exception {
    // no operator: a live job whose reconciler is wedged, and its machine running for too long
    Ec2MachineProvider provider = new Ec2MachineProvider(ec2.ec2Client(), operator.config().ec2(),
        Ec2TestEnv.CLUSTER_ID);
    NixekJob j = imageJob("wedged");
    j.getSpec().timeoutSeconds = 1L;
    NixekJob job = client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
    var machine = provider.launch(new dev.nixek.ci.operator.machine.LaunchRequest(job.getMetadata().getUid(), NS,
        "wedged", "nixek-" + job.getMetadata().getUid() + "-1", imageId, null,
        new dev.nixek.ci.protocol.AgentConfig(dev.nixek.ci.protocol.AgentConfig.VERSION, job.getMetadata().getUid(),
            NS, "wedged", "http://x", "t", List.of(), true)));
    NixekJobStatus s = new NixekJobStatus();
    s.launchToken = machine.launchToken();
    s.instanceId = machine.id();
    job.setStatus(s);
    client.resources(NixekJob.class).inNamespace(NS).resource(job).updateStatus();

    MachineCollector collector = new MachineCollector(client, provider, List.of(), Duration.ofHours(1),
        Duration.ofSeconds(1), Duration.ofHours(1), Clock.systemUTC());
    assertThat(collector.collect()).as("younger than 1s + 1s").isEmpty();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(collector.collect()).singleElement()
        .satisfies(c -> assertThat(c.reason()).contains("time limit plus slack")));
    await().until(() -> Ec2TestEnv.terminating(ec2.instance(machine.id()).orElseThrow()));
    provider.close();
  }

  private static List<dev.nixek.ci.testing.aws.ec2.Ec2Call> runCalls(NixekJob job) {
    return ec2.calls("RunInstances").stream()
        .filter(c -> c.params().getOrDefault("ClientToken", "").contains(job.getMetadata().getUid())).toList();
  }

  private NixekJob imageJob(String name) {
    NixekJob j = TestJobs.job(NS, name, run("build", "true"), run("test", "true"));
    j.getSpec().machine = null;
    j.getSpec().machineImageName = IMAGE;
    return j;
  }

  private NixekJob create(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).resource(imageJob(name)).create();
  }

  private void succeed(String name) {
    reports.step(NS, name, 0, 0);
    reports.step(NS, name, 1, 0);
  }

  private void edit(String name, java.util.function.Consumer<NixekJob> change) {
    client.resources(NixekJob.class).inNamespace(NS).withName(name).edit(j -> {
      change.accept(j);
      return j;
    });
  }

  private static NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
  }

  private static Condition condition(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }

  private static String reason(String name) {
    NixekJob j = get(name);
    return j.getStatus() == null ? null
        : Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).map(Condition::getReason).orElse(null);
  }

  private static NixekJob awaitReason(String name, String reason) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(reason(name))
        .as("%s", get(name).getStatus() == null ? null : condition(get(name)).getMessage()).isEqualTo(reason));
    return get(name);
  }

  private static void awaitTerminated(String name, String reason) {
    awaitReason(name, reason);
    await().atMost(Duration.ofSeconds(60)).until(() -> Boolean.TRUE.equals(get(name).getStatus().machineTerminated));
  }

  private static List<String> eventReasons(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).map(Event::getReason).toList();
  }
}
