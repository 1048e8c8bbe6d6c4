package dev.nixek.ci.operator.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineState;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The batched DescribeInstances poll against the stateful EC2 fake (real SDK client, real pagination): how many calls
 * N followed jobs cost, how soon a change is told, and that every answer the cache gives is one it can vouch for.
 */
class InstanceStatesTest {
  private static final Duration INTERVAL = Duration.ofSeconds(5);
  static FakeEc2 fake;
  static Ec2Client sdk;

  /** A clock the test moves by hand. */
  static final class HandClock extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeAll
  static void startFake() {
    fake = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
    sdk = fake.ec2Client();
    Ec2MachineProviderTest.imageId = fake.seedImage("nixek-test-image", fake.seedSnapshot(4, Map.of()), Map.of());
  }

  @AfterAll
  static void stopFake() {
    sdk.close();
    fake.close();
  }

  @BeforeEach
  void clear() {
    fake.faults().clear();
    fake.reset();
  }

  private static Ec2MachineProvider provider(String cluster, Clock clock) {
    return new Ec2MachineProvider(sdk, Ec2MachineProviderTest.options(Map.of()), cluster, INTERVAL, clock);
  }

  private static List<String> launch(Ec2MachineProvider p, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(p.launch(Ec2MachineProviderTest.request("nixek-" + UUID.randomUUID() + "-1", null, 1)).id());
    }
    return ids;
  }

  /** DescribeInstances calls of ten poll intervals in which every job looks at its machine every interval. */
  private static int callsOverTenIntervals(int jobs) throws Exception {
    HandClock clock = new HandClock();
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), clock);
    List<String> ids = launch(p, jobs);
    p.states().poll();
    fake.reset();
    for (int round = 0; round < 10; round++) {
      for (String id : ids) {
        assertThat(p.describe(id)).map(Machine::id).contains(id);
      }
      clock.now = clock.now.plus(INTERVAL);
      p.states().poll();
    }
    return fake.count("DescribeInstances");
  }

  @Test
  void followedJobsCostOneDescribeChainPerIntervalWhateverTheirNumber() throws Exception {
    int three = callsOverTenIntervals(3);
    int forty = callsOverTenIntervals(40);
    assertThat(three).as("one DescribeInstances per poll; describes answered from it").isEqualTo(10);
    assertThat(forty).as("independent of the number of jobs").isEqualTo(three);
  }

  @Test
  void moreInstancesThanAPageAreAllSeenAcrossPages() throws Exception {
    HandClock clock = new HandClock();
    String cluster = "cluster-" + UUID.randomUUID();
    List<String> ids = launch(provider(cluster, clock), 12);
    InstanceStates states = new InstanceStates(sdk, cluster, INTERVAL, clock, 5);
    fake.reset();
    states.poll();
    assertThat(fake.count("DescribeInstances")).as("three pages of at most 5").isEqualTo(3);
    for (String id : ids) {
      assertThat(states.describe(id)).as(id).isPresent();
    }
  }

  @Test
  void aStateChangeIsToldAtTheNextPollAndServedFromIt() throws Exception {
    HandClock clock = new HandClock();
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), clock);
    List<String> ids = launch(p, 3);
    Set<String> told = ConcurrentHashMap.newKeySet();
    p.states().start((ns, name) -> told.add(ns + "/" + name));
    await().atMost(Duration.ofSeconds(10)).until(() -> p.states().describe(ids.get(0)).isPresent());
    p.states().close();
    p.states().poll();
    told.clear();
    // someone else terminates one instance (a spot interruption, a person in the console)
    sdk.terminateInstances(r -> r.instanceIds(ids.get(1)));
    clock.now = clock.now.plus(INTERVAL);
    p.states().poll();
    String name = fake.instance(ids.get(1)).orElseThrow().tags().get(Ec2Tags.JOB_NAME);
    assertThat(told).as("exactly the job whose instance changed").containsExactly("ci/" + name);
    fake.reset();
    assertThat(p.describe(ids.get(1)).orElseThrow().state().isGone()).isTrue();
    assertThat(fake.count("DescribeInstances")).isZero();
    // shutting-down → terminated is a change too; once terminated, nothing changes any more
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      p.states().poll();
      return p.states().describe(ids.get(1)).orElseThrow().state() == MachineState.TERMINATED;
    });
    told.clear();
    clock.now = clock.now.plus(INTERVAL);
    p.states().poll();
    assertThat(told).as("nothing changed since").isEmpty();
  }

  @Test
  void theRealPollerTellsAChangeWithoutBeingDriven() throws Exception {
    Ec2MachineProvider p = new Ec2MachineProvider(sdk, Ec2MachineProviderTest.options(Map.of()),
        "cluster-" + UUID.randomUUID(), Duration.ofMillis(200), Clock.systemUTC());
    try {
      List<String> ids = launch(p, 2);
      Set<String> told = ConcurrentHashMap.newKeySet();
      p.watch((ns, name) -> told.add(ns + "/" + name));
      assertThat(p.watches()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> p.states().describe(ids.get(0)).isPresent());
      String name = fake.instance(ids.get(0)).orElseThrow().tags().get(Ec2Tags.JOB_NAME);
      sdk.terminateInstances(r -> r.instanceIds(ids.get(0)));
      await().atMost(Duration.ofSeconds(10)).until(() -> told.contains("ci/" + name));
    } finally {
      p.states().close();
    }
  }

  @Test
  void describesRightAfterTheStartWaitForTheFirstPollInsteadOfAskingOneByOne() throws Exception {
    String cluster = "cluster-" + UUID.randomUUID();
    List<String> ids = launch(provider(cluster, new HandClock()), 5);
    Ec2MachineProvider p = new Ec2MachineProvider(sdk, Ec2MachineProviderTest.options(Map.of()), cluster,
        Duration.ofSeconds(20), Clock.systemUTC());
    try {
      fake.reset();
      p.watch((ns, name) -> { });
      for (String id : ids) {
        assertThat(p.describe(id)).map(Machine::id).contains(id);
      }
      assertThat(fake.count("DescribeInstances")).as("the first poll only").isEqualTo(1);
    } finally {
      p.states().close();
    }
  }

  @Test
  void anInstanceLaunchedAfterThePollIsLookedUpDirectlyWithTheUsualTolerance() throws Exception {
    HandClock clock = new HandClock();
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), clock);
    p.states().poll();
    // EC2 does not show a new instance for a while: the direct look says so, and the caller's grace applies
    fake.faults().notFoundFor("DescribeInstances", Duration.ofSeconds(30));
    String id = launch(p, 1).get(0);
    fake.reset();
    assertThat(p.describe(id)).as("not in the poll, not shown by EC2 yet").isEmpty();
    assertThat(fake.count("DescribeInstances")).as("asked EC2 itself").isEqualTo(1);
    fake.faults().clear();
    assertThat(p.describe(id)).isPresent();
  }

  @Test
  void aTerminateIsConfirmedByADirectLookNotByAnOlderPoll() throws Exception {
    HandClock clock = new HandClock();
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), clock);
    String id = launch(p, 1).get(0);
    p.states().poll();
    assertThat(p.describe(id).orElseThrow().state().isTerminating()).isFalse();
    clock.now = clock.now.plusSeconds(1);
    p.terminate(id);
    fake.reset();
    assertThat(p.describe(id).orElseThrow().state().isTerminating()).as("EC2's answer, not the poll's").isTrue();
    assertThat(fake.count("DescribeInstances")).isEqualTo(1);
    clock.now = clock.now.plus(INTERVAL);
    p.states().poll();
    fake.reset();
    assertThat(p.describe(id).orElseThrow().state().isTerminating()).isTrue();
    assertThat(fake.count("DescribeInstances")).as("a poll after the terminate answers again").isZero();
  }

  @Test
  void aStalePollAnswersNothing() throws Exception {
    HandClock clock = new HandClock();
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), clock);
    String id = launch(p, 1).get(0);
    p.states().poll();
    clock.now = clock.now.plus(INTERVAL.multipliedBy(2)).plusMillis(1);
    // the polls failed since (throttled, say): the instance is looked up directly, as before the poller existed
    fake.reset();
    assertThat(p.describe(id)).isPresent();
    assertThat(fake.count("DescribeInstances")).isEqualTo(1);
  }

  @Test
  void anUnwatchedProviderDescribesDirectlyAsBefore() throws Exception {
    Ec2MachineProvider p = provider("cluster-" + UUID.randomUUID(), new HandClock());
    String id = launch(p, 1).get(0);
    fake.reset();
    assertThat(p.watches()).isFalse();
    assertThat(p.describe(id)).map(Machine::id).contains(id);
    assertThat(fake.count("DescribeInstances")).isEqualTo(1);
  }
}
