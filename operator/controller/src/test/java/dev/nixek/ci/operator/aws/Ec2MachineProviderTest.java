package dev.nixek.ci.operator.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.operator.config.Ec2Options;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineState;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.ec2.InstanceState;
import dev.nixek.ci.testing.aws.ec2.Views.InstanceView;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;

/** The ec2 provider against the stateful EC2 fake, through the real SDK client. */
class Ec2MachineProviderTest {
  private static final List<String> SUBNETS = List.of("subnet-0a01", "subnet-0b02", "subnet-0c03");
  static FakeEc2 fake;
  static Ec2Client sdk;
  static String imageId;

  @BeforeAll
  static void startFake() {
    fake = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
    sdk = fake.ec2Client();
    imageId = fake.seedImage("nixek-test-image", fake.seedSnapshot(4, Map.of()), Map.of());
  }

  @AfterAll
  static void stopFake() {
    sdk.close();
    fake.close();
  }

  @BeforeEach
  void clearFaults() {
    fake.faults().clear();
    fake.reset();
  }

  static Ec2Options options(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(Map.of("NIXEK_EC2_SUBNETS", String.join(",", SUBNETS),
        "NIXEK_EC2_SECURITY_GROUPS", "sg-0123,sg-0456", "NIXEK_EC2_INSTANCE_PROFILE", "nixek-ci-job",
        "NIXEK_EC2_INSTANCE_TYPE", "t3.small"));
    env.putAll(extra);
    return Ec2Options.fromEnv(env);
  }

  private static Ec2MachineProvider provider(Map<String, String> extra, String cluster) {
    return new Ec2MachineProvider(sdk, options(extra), cluster);
  }

  static LaunchRequest request(String token, String instanceType, int steps) {
    String uid = UUID.randomUUID().toString();
    List<AgentStep> s = new java.util.ArrayList<>();
    for (int i = 0; i < steps; i++) {
      s.add(new AgentStep("step-" + i, "echo " + i, null, null, null));
    }
    AgentConfig config = new AgentConfig(AgentConfig.VERSION, uid, "ci", "job-" + token, "http://report:8080",
        "nxkjt_secret", s, true);
    return new LaunchRequest(uid, "ci", "job-" + token, token, imageId, instanceType, config);
  }

  private static InstanceView view(String id) {
    return fake.instance(id).orElseThrow();
  }

  @Test
  void aLaunchAsksForEverythingTheDesignRequires() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 2);
    Machine m = p.launch(r);

    InstanceView i = view(m.id());
    assertThat(i.clientToken()).isEqualTo(r.launchToken());
    assertThat(i.imageId()).isEqualTo(imageId);
    assertThat(i.instanceType()).as("the operator's default").isEqualTo("t3.small");
    assertThat(i.httpTokens()).isEqualTo("required");
    assertThat(i.httpPutResponseHopLimit()).isEqualTo(1);
    assertThat(i.httpEndpoint()).isEqualTo("enabled");
    assertThat(i.shutdownBehavior()).isEqualTo("terminate");
    assertThat(i.securityGroupIds()).containsExactly("sg-0123", "sg-0456");
    assertThat(i.iamInstanceProfileArn()).endsWith(":instance-profile/nixek-ci-job");
    assertThat(i.subnetId()).isIn(SUBNETS);
    assertThat(i.spot()).isFalse();
    Map<String, String> tags = Map.of(Ec2Tags.JOB_UID, r.jobUid(), Ec2Tags.JOB_NAMESPACE, "ci", Ec2Tags.JOB_NAME,
        r.name(), Ec2Tags.CLUSTER_ID, "cluster-a", Ec2Tags.MANAGED_BY, "nixek-ci");
    assertThat(i.tags()).containsAllEntriesOf(tags);
    assertThat(i.volumeTags()).isNotEmpty().allSatisfy((vol, t) -> assertThat(t).containsAllEntriesOf(tags));
    // user-data is exactly the agent config, as the agent parses it
    assertThat(Json.mapper().readValue(i.userData(), AgentConfig.class)).isEqualTo(r.agentConfig());

    assertThat(m.jobUid()).isEqualTo(r.jobUid());
    assertThat(m.launchToken()).isEqualTo(r.launchToken());
    assertThat(m.launchTime()).isNotNull();
  }

  @Test
  void aJobsInstanceTypeWins() throws Exception {
    Machine m = provider(Map.of(), "cluster-a").launch(request("nixek-" + UUID.randomUUID() + "-1", "c7g.large", 1));
    assertThat(view(m.id()).instanceType()).isEqualTo("c7g.large");
  }

  @Test
  void aReplayedLaunchReturnsTheSameInstanceInTheSameSubnet() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 1);
    Machine first = p.launch(r);
    // a fresh provider (an operator restart) replays the same launch
    Machine again = provider(Map.of(), "cluster-a").launch(r);
    assertThat(again.id()).isEqualTo(first.id());
    assertThat(fake.instances().stream().filter(i -> r.launchToken().equals(i.clientToken()))).hasSize(1);
    assertThat(fake.calls("RunInstances")).hasSize(2)
        .extracting(c -> c.params().get("SubnetId")).containsOnly(view(first.id()).subnetId());
  }

  @Test
  void theSubnetIsAFunctionOfTheTokenAndTokensSpreadOverSubnets() {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    Set<String> used = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      String token = "nixek-" + UUID.randomUUID() + "-1";
      assertThat(p.subnetFor(token)).isEqualTo(provider(Map.of(), "cluster-a").subnetFor(token));
      used.add(p.subnetFor(token).orElseThrow());
    }
    assertThat(used).containsExactlyInAnyOrderElementsOf(SUBNETS);
    assertThat(provider(Map.of("NIXEK_EC2_SUBNETS", ""), "c").subnetFor("t")).isEmpty();
  }

  @Test
  void userDataOver16KbIsAPermanentFailureNamingTheLimitAndCallsNothing() {
    LaunchRequest big = request("nixek-" + UUID.randomUUID() + "-1", null, 700);
    assertThatThrownBy(() -> provider(Map.of(), "cluster-a").launch(big))
        .isInstanceOfSatisfying(LaunchException.class, e -> {
          assertThat(e.kind()).isEqualTo(LaunchException.Kind.PERMANENT);
          assertThat(e.getMessage()).contains("16384").contains("user-data");
        });
    assertThat(fake.count("RunInstances")).isZero();
  }

  @Test
  void changedParametersForARecordedTokenArePermanent() throws Exception {
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 1);
    provider(Map.of(), "cluster-a").launch(r);
    LaunchRequest changed = new LaunchRequest(r.jobUid(), r.namespace(), r.name(), r.launchToken(), r.imageId(),
        "m7i.xlarge", r.agentConfig());
    assertThatThrownBy(() -> provider(Map.of(), "cluster-a").launch(changed))
        .isInstanceOfSatisfying(LaunchException.class, e -> {
          assertThat(e.kind()).isEqualTo(LaunchException.Kind.PERMANENT);
          assertThat(e.getMessage()).contains("IdempotentParameterMismatch");
        });
  }

  @Test
  void aTokenWhoseInstanceWasTerminatedIsReportedAsSuch() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 1);
    Machine m = p.launch(r);
    p.terminate(m.id());
    await().until(() -> view(m.id()).state() == InstanceState.TERMINATED);
    assertThatThrownBy(() -> p.launch(r)).isInstanceOfSatisfying(LaunchException.class,
        e -> assertThat(e.kind()).isEqualTo(LaunchException.Kind.TOKEN_TERMINATED));
  }

  @Test
  void spotCapacityErrorsFallBackToAnOnDemandTokenThatLaunchesOnDemand() throws Exception {
    Ec2MachineProvider p = provider(Map.of("NIXEK_EC2_SPOT", "true"), "cluster-a");
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 1);
    fake.faults().insufficientSpotCapacity(10);
    LaunchException e = org.junit.jupiter.api.Assertions.assertThrows(LaunchException.class, () -> p.launch(r));
    assertThat(e.kind()).isEqualTo(LaunchException.Kind.FALL_BACK);
    assertThat(e.nextLaunchToken()).contains(r.launchToken() + "-od");
    assertThat(fake.instances().stream().filter(i -> r.jobUid().equals(i.tags().get(Ec2Tags.JOB_UID)))).isEmpty();

    LaunchRequest od = new LaunchRequest(r.jobUid(), r.namespace(), r.name(), e.nextLaunchToken().get(), r.imageId(),
        null, r.agentConfig());
    Machine m = p.launch(od);
    assertThat(view(m.id()).spot()).isFalse();
    assertThat(view(m.id()).clientToken()).isEqualTo(od.launchToken());
    assertThat(fake.calls("RunInstances")).last()
        .satisfies(c -> assertThat(c.params()).doesNotContainKey("InstanceMarketOptions.MarketType"));
  }

  @Test
  void spotLaunchesAskForOneTimeSpotThatTerminatesOnInterruption() throws Exception {
    Machine m = provider(Map.of("NIXEK_EC2_SPOT", "true"), "cluster-a")
        .launch(request("nixek-" + UUID.randomUUID() + "-1", null, 1));
    assertThat(view(m.id()).spot()).isTrue();
    assertThat(fake.calls("RunInstances")).last().satisfies(c -> assertThat(c.params())
        .containsEntry("InstanceMarketOptions.MarketType", "spot")
        .containsEntry("InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time")
        .containsEntry("InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior", "terminate"));
  }

  @Test
  void throttlingAndServerErrorsAreRetriedWithTheSameToken() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    LaunchRequest r = request("nixek-" + UUID.randomUUID() + "-1", null, 1);
    // more failures than the SDK's own three attempts: the provider says "retry" and nothing was launched
    fake.faults().throttle("RunInstances", 2).serverError("RunInstances", 2);
    assertThatThrownBy(() -> p.launch(r)).isInstanceOfSatisfying(LaunchException.class,
        e -> assertThat(e.kind()).isEqualTo(LaunchException.Kind.RETRY));
    Machine m = p.launch(r);
    assertThat(fake.calls("RunInstances")).extracting(c -> c.params().get("ClientToken")).containsOnly(r.launchToken());
    assertThat(fake.instances().stream().filter(i -> r.launchToken().equals(i.clientToken()))).hasSize(1)
        .extracting(InstanceView::instanceId).containsExactly(m.id());
  }

  @Test
  void notFoundRightAfterLaunchIsEmptyNotAnError() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    fake.faults().notFoundFor("DescribeInstances", Duration.ofSeconds(30))
        .notFoundFor("TerminateInstances", Duration.ofSeconds(30));
    Machine m = p.launch(request("nixek-" + UUID.randomUUID() + "-1", null, 1));
    assertThat(p.describe(m.id())).isEmpty();
    assertThat(p.findByLaunchToken(m.launchToken())).isEmpty();
    p.terminate(m.id()); // quiet: the caller confirms with describe and comes back
    assertThat(view(m.id()).state()).isNotEqualTo(InstanceState.SHUTTING_DOWN).isNotEqualTo(InstanceState.TERMINATED);
    fake.faults().clear();
    p.terminate(m.id());
    await().until(() -> p.describe(m.id()).map(x -> x.state() == MachineState.TERMINATED).orElse(false));
  }

  @Test
  void findByLaunchTokenAndListSeeOnlyThisClustersInstances() throws Exception {
    Ec2MachineProvider a = provider(Map.of(), "cluster-x");
    Ec2MachineProvider b = provider(Map.of(), "cluster-y");
    Machine ma = a.launch(request("nixek-" + UUID.randomUUID() + "-1", null, 1));
    Machine mb = b.launch(request("nixek-" + UUID.randomUUID() + "-1", null, 1));
    assertThat(a.findByLaunchToken(ma.launchToken())).map(Machine::id).contains(ma.id());
    assertThat(a.findByLaunchToken(mb.launchToken())).isEmpty();
    assertThat(a.list()).extracting(Machine::id).contains(ma.id()).doesNotContain(mb.id());
    assertThat(a.list()).filteredOn(m -> m.id().equals(ma.id())).singleElement()
        .satisfies(m -> assertThat(m.launchToken()).isEqualTo(ma.launchToken()));
    a.terminate(ma.id());
    a.terminate(ma.id()); // idempotent
    await().until(() -> a.list().stream().noneMatch(m -> m.id().equals(ma.id())));
    assertThat(a.findByLaunchToken(ma.launchToken())).map(Machine::state).contains(MachineState.TERMINATED);
  }

  @Test
  void aGuestPoweroffTerminatesTheInstance() throws Exception {
    Ec2MachineProvider p = provider(Map.of(), "cluster-a");
    Machine m = p.launch(request("nixek-" + UUID.randomUUID() + "-1", null, 1));
    await().until(() -> view(m.id()).state() == InstanceState.RUNNING);
    assertThat(fake.instanceShutdownByGuest(m.id())).isTrue();
    await().until(() -> p.describe(m.id()).map(x -> x.state().isTerminating()).orElse(false));
  }
}
