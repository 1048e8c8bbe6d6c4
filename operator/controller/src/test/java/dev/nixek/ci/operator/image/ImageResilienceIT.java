package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.image.ImageCrashPoints.Point;
import dev.nixek.ci.testing.aws.ec2.Ec2Call;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator killed between an AWS call and the status write, then restarted in this JVM: exactly one import task
 * and one AMI whatever the crash point. And EC2 answering throttling, 5xx and "not found yet" on every action the
 * flow uses: the image still converges, once.
 */
class ImageResilienceIT extends RealApiServerTier {
  private static final Logger LOG = LoggerFactory.getLogger(ImageResilienceIT.class);
  /** Every EC2 action an image's reconcile calls. */
  private static final List<String> ACTIONS = List.of("DescribeImages", "ImportSnapshot",
      "DescribeImportSnapshotTasks", "CreateTags", "RegisterImage");
  private static final int RUNS_PER_POINT = 3;


  static Stream<Arguments> crashes() {
    return Stream.of(Point.values()).flatMap(p -> Stream.iterate(1, i -> i + 1).limit(RUNS_PER_POINT)
        .map(run -> Arguments.of(p, run)));
  }

  @ParameterizedTest(name = "{0}, run {1}")
  @MethodSource("crashes")
  void aCrashBetweenAnAwsCallAndTheStatusWriteMakesNothingTwice(Point point, int run) throws Exception {
    CrashAt crash = new CrashAt(point);
    operator.start(crash);
    String name = "crash-" + run;
    create(ImageTestEnv.image(ns, name, ImageTestEnv.uniqueMachine("crash at " + point)));
    assertThat(crash.awaitCrash(90)).as("crashed at " + point).isTrue();
    operator.stop();

    NixekMachineImage before = get(name);
    switch (point) {
      case IMPORT_STARTED -> {
        assertThat(before.getStatus().importTaskId).as("not recorded").isNull();
        assertThat(env.ec2.importTasks()).hasSize(1);
      }
      case IMAGE_REGISTERED -> {
        assertThat(before.getStatus().imageId).as("not recorded").isNull();
        assertThat(env.ec2.images()).hasSize(1);
      }
    }

    operator.start();
    NixekMachineImage ready = awaitReady(name);
    env.built(ready.getStatus().drvPath);
    assertThat(env.ec2.importTasks()).as("import tasks").hasSize(1);
    assertThat(env.ec2.images()).as("AMIs").hasSize(1);
    assertThat(env.ec2.snapshots()).as("snapshots").hasSize(1);
    assertThat(ready.getStatus().importTaskId).isEqualTo(env.ec2.importTasks().get(0).importTaskId());
    assertThat(ready.getStatus().imageId).isEqualTo(env.ec2.images().get(0).imageId());
    assertThat(env.ec2.count("RegisterImage")).isEqualTo(1);
    assertThat(kubelet.started()).hasSize(1);
    LOG.info("crash at {} (run {}): ImportSnapshot calls {}, import tasks {}, RegisterImage calls {}, AMIs {}", point,
        run, env.ec2.count("ImportSnapshot"), env.ec2.importTasks().size(), env.ec2.count("RegisterImage"),
        env.ec2.images().size());
  }

  @Test
  void throttlingAndServerErrorsOnEveryEc2ActionStillConverge() throws Exception {
    for (String action : ACTIONS) {
      // more in a row than the SDK's own three attempts: the reconciler's retry has to carry it
      env.ec2.faults().throttle(action, 2).serverError(action, 2);
    }
    operator.start();
    create(ImageTestEnv.image(ns, "faulty", ImageTestEnv.uniqueMachine("faults")));
    NixekMachineImage ready = awaitReady("faulty");
    env.built(ready.getStatus().drvPath);

    assertThat(env.ec2.importTasks()).hasSize(1);
    assertThat(env.ec2.images()).hasSize(1);
    for (String action : ACTIONS) {
      List<Ec2Call> calls = env.ec2.calls(action);
      assertThat(calls).as(action).filteredOn(c -> "RequestLimitExceeded".equals(c.errorCode())).hasSize(2);
      assertThat(calls).as(action).filteredOn(c -> "InternalError".equals(c.errorCode())).hasSize(2);
    }
    long faulted = env.ec2.calls().stream().filter(c -> c.errorCode() != null).count();
    LOG.info("faults: {} of {} EC2 calls failed ({} ImportSnapshot, {} RegisterImage calls); converged once",
        faulted, env.ec2.calls().size(), env.ec2.count("ImportSnapshot"), env.ec2.count("RegisterImage"));
  }

  @Test
  void eventualConsistencyAndACrashAfterRegisterImageStillMakeOneAmi() throws Exception {
    // for 3 s after they are made, EC2 does not show the AMI or the import task
    env.ec2.faults().notFoundFor("DescribeImages", Duration.ofSeconds(3))
        .notFoundFor("DescribeImportSnapshotTasks", Duration.ofSeconds(3));
    CrashAt crash = new CrashAt(Point.IMAGE_REGISTERED);
    operator.start(crash);
    create(ImageTestEnv.image(ns, "eventual", ImageTestEnv.uniqueMachine("eventual consistency")));
    assertThat(crash.awaitCrash(90)).isTrue();
    operator.stop();
    operator.start();
    NixekMachineImage ready = awaitReady("eventual");
    env.built(ready.getStatus().drvPath);
    assertThat(env.ec2.importTasks()).hasSize(1);
    assertThat(env.ec2.images()).hasSize(1);
    assertThat(ready.getStatus().imageId).isEqualTo(env.ec2.images().get(0).imageId());
    LOG.info("eventual consistency + crash: RegisterImage calls {} ({} answered InvalidAMIName.Duplicate), AMIs {}",
        env.ec2.count("RegisterImage"), env.ec2.calls("RegisterImage").stream()
            .filter(c -> "InvalidAMIName.Duplicate".equals(c.errorCode())).count(), env.ec2.images().size());
  }
}
