package dev.nixek.ci.operator.aws;

import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.job.CrashPoints.Point;
import dev.nixek.ci.operator.machine.MachineCollector;
import dev.nixek.ci.operator.testing.CrashAt;
import dev.nixek.ci.operator.testing.Ec2TestEnv;
import dev.nixek.ci.operator.testing.InProcessOperator;
import dev.nixek.ci.operator.testing.Reports;
import dev.nixek.ci.operator.testing.TestImages;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.ec2.Views.InstanceView;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The operator is killed at each crash point of a launch and restarted in-process; every run checks that the job
 * has exactly one instance and that nothing is left running once the job ended and the collector ran.
 *
 * <p>Against {@link FakeEc2} only: the guarantee rests on RunInstances ClientToken idempotency, which moto does not
 * implement (a replay there launches a second instance; see testing/fake-aws/README.md).
 *
 * <p>Each run ends the job one of three ways, in turn: the agent's reports say it succeeded; it is cancelled; it is
 * deleted while the operator is down. Runs per point: {@code -Dnixek.crashRuns} (default 20). The counts are
 * printed and written to {@code target/crash-points.txt}.
 */
@EnableKubernetesMockClient(crud = true)
class Ec2CrashPointsIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private static final String IMAGE = "crash-image";
  private static final int RUNS = Integer.getInteger("nixek.crashRuns", 20);
  private static FakeEc2 ec2;
  private static String imageId;
  private static final Map<Point, List<Run>> RESULTS = new EnumMap<>(Point.class);

  /** What one run saw. */
  record Run(String ending, int instances, int runInstancesCalls, int liveAfterCollection, int collected,
      String reason) {}

  @BeforeAll
  static void startEc2() {
    ec2 = FakeEc2.builder().pending(1, Duration.ofMillis(50)).shuttingDown(1, Duration.ofMillis(50)).start();
    // under the image's namespace: the trust domain is part of the AMI name the image reconciler looks up
    imageId = ec2.seedImage(TestImages.amiName(Ec2TestEnv.operatorEnv(URI.create("http://unused"), "unused"), NS),
        ec2.seedSnapshot(4, Map.of()), Map.of());
  }

  @AfterAll
  static void report() throws IOException {
    StringBuilder b = new StringBuilder("crash points (FakeEc2, fabric8 mock API server): runs per point, instances "
        + "per job, RunInstances calls per job, live instances after collection\n");
    RESULTS.forEach((point, runs) -> {
      b.append(String.format("%-24s runs=%d  endings=%s  instancesPerJob=%s  runInstancesCalls=%s  "
              + "liveAfterCollection=%d  collectedByCollector=%d  finalReasons=%s%n", point, runs.size(),
          count(runs, Run::ending), count(runs, Run::instances), count(runs, Run::runInstancesCalls),
          runs.stream().mapToInt(Run::liveAfterCollection).sum(), runs.stream().mapToInt(Run::collected).sum(),
          count(runs, Run::reason)));
    });
    System.out.print(b);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target", "crash-points.txt"), b.toString());
    ec2.close();
  }

  private static <T> Map<T, Long> count(List<Run> runs, java.util.function.Function<Run, T> f) {
    return runs.stream().collect(Collectors.groupingBy(f, TreeMap::new, Collectors.counting()));
  }

  @BeforeEach
  void cluster() {
    TestJobs.createCrds(client);
    if (client.resources(dev.nixek.ci.api.v1alpha1.NixekMachineImage.class).inNamespace(NS).withName(IMAGE)
        .get() == null) {
      TestImages.ready(client, NS, IMAGE, imageId);
    }
  }

  @ParameterizedTest
  @EnumSource(Point.class)
  void exactlyOneInstancePerJobAndNoOrphansWhateverTheCrashPoint(Point point) throws Exception {
    List<Run> runs = new ArrayList<>();
    RESULTS.put(point, runs);
    for (int i = 0; i < RUNS; i++) {
      runs.add(oneRun(point, i));
    }
    for (Run r : runs) {
      boolean launched = r.ending().equals("deleted-while-down") && point.compareTo(Point.LAUNCHED) < 0;
      assertThat(r.instances()).as("instances of a job crashed at %s, %s", point, r)
          .isEqualTo(launched ? 0 : 1);
      assertThat(r.liveAfterCollection()).as("live instances after collection: %s", r).isZero();
      assertThat(r.collected()).as("orphans the collector had to terminate: %s", r).isZero();
    }
    if (point == Point.LAUNCHED) {
      // (a deleted job's machine is found by its token and terminated instead)
      assertThat(runs).filteredOn(r -> !r.ending().equals("deleted-while-down"))
          .as("the restarted operator replayed RunInstances with the recorded token")
          .allSatisfy(r -> assertThat(r.runInstancesCalls()).isEqualTo(2));
    }
  }

  private Run oneRun(Point point, int i) throws Exception {
    String ending = List.of("succeeded", "cancelled", "deleted-while-down").get(i % 3);
    String name = "crash-" + point.name().toLowerCase().replace('_', '-') + "-" + i;
    Map<String, String> env = Ec2TestEnv.with(Ec2TestEnv.operatorEnv(ec2.endpoint(), NS),
        Map.of("NIXEK_EC2_NOT_FOUND_GRACE_SECONDS", "3"));
    try (InProcessOperator operator = new InProcessOperator(client, env)) {
      CrashAt crash = new CrashAt(point, name);
      operator.start(crash);
      NixekJob j = TestJobs.job(NS, name, run("build", "true"), run("test", "true"));
      j.getSpec().machine = null;
      j.getSpec().machineImageName = IMAGE;
      NixekJob created = client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
      assertThat(crash.awaitCrash(30)).as("crash at %s", point).isTrue();
      operator.stop();

      if (ending.equals("deleted-while-down")) {
        client.resources(NixekJob.class).inNamespace(NS).withName(name).delete();
      }
      operator.start();
      String reason;
      if (ending.equals("deleted-while-down")) {
        await().atMost(Duration.ofSeconds(30)).until(() -> get(name) == null);
        reason = "Deleted";
      } else {
        await().atMost(Duration.ofSeconds(30)).until(() -> get(name).getStatus() != null
            && get(name).getStatus().instanceId != null);
        if (ending.equals("succeeded")) {
          Reports reports = new Reports(client);
          reports.step(NS, name, 0, 0);
          reports.step(NS, name, 1, 0);
        } else {
          client.resources(NixekJob.class).inNamespace(NS).withName(name).edit(x -> {
            x.getSpec().cancel = true;
            return x;
          });
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(get(name).getStatus().machineTerminated));
        reason = Conditions.find(get(name).getStatus().conditions, Conditions.SUCCEEDED).orElseThrow().getReason();
      }
      List<InstanceView> instances = Ec2TestEnv.instancesOf(ec2, created);
      int calls = (int) ec2.calls("RunInstances").stream()
          .filter(c -> c.params().getOrDefault("ClientToken", "").contains(created.getMetadata().getUid())).count();
      // the collector, as the operator runs it, with no grace at all
      OperatorConfig config = operator.config();
      int collected;
      try (Ec2MachineProvider provider = new Ec2MachineProvider(new AwsClients(config.aws()), config.ec2(),
          config.clusterId(), config.pollInterval(), Clock.systemUTC())) {
        collected = new MachineCollector(client, provider, List.of(), Duration.ZERO, Duration.ofMinutes(30),
            Duration.ofHours(1), Clock.systemUTC()).collect().size();
      }
      int live = (int) instances.stream().map(x -> ec2.instance(x.instanceId()).orElseThrow())
          .filter(x -> !Ec2TestEnv.terminating(x)).count();
      return new Run(ending, instances.size(), calls, live, collected, reason);
    }
  }

  private static NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
  }
}
