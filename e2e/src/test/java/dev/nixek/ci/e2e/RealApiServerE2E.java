package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.testing.kube.CommandResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator with its production settings (server-side apply on) on a real kube-apiserver + etcd, the report API
 * as its own process, the local provider running the real agent.
 */
class RealApiServerE2E extends RealApiServerStackTier {
  @Test
  void theHelloExampleRunsToCompletionAndKubectlShowsIt() throws Exception {
    CommandResult applied = server.kubectl("apply", "--server-side", "-n", ns, "-f",
        ManifestsIT.HOME.resolve("examples/hello-job.yaml").toString());
    assertThat(applied.exitCode()).as(applied.stderr()).isZero();
    NixekJob done = awaitTerminal("hello");
    assertThat(succeeded(done).getStatus()).as(succeeded(done).getMessage()).isEqualTo("True");
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
    assertThat(done.getStatus().steps.get(0).outputTail).startsWith("hello from nixek-ci on Linux\n");
    assertThat(done.getStatus().steps.get(2).outputTail).isEqualTo("built\n");

    CommandResult get = server.kubectl("get", "nixekjobs", "-n", ns);
    assertThat(get.stdout().lines().findFirst().orElse(""))
        .matches("NAME\\s+AGE\\s+STATUS\\s+STEP\\s+INSTANCE\\s*");
    assertThat(get.stdout()).containsPattern("hello\\s+\\S+\\s+Succeeded\\s+3/3\\s+local-[0-9a-f]+");

    CommandResult describe = server.kubectl("describe", "nixekjob", "hello", "-n", ns);
    assertThat(describe.stdout())
        .contains("Conditions:").contains("Reason:", "Succeeded").contains("all 3 steps succeeded")
        .contains("Events:").contains("Launched").contains("MachineTerminated");

    // the two writers' field managers (docs/architecture.md#who-writes-what): the operator owns conditions, the report API the steps
    String managed = server.kubectl("get", "nixekjob", "hello", "-n", ns, "--show-managed-fields", "-o", "yaml").stdout();
    assertThat(managed).contains("manager: nixek-operator").contains("manager: nixek-report-api");
  }

  @Test
  void aFailingStepFailsTheJob() {
    // steps named as display text (the CRD's pattern on a real API server): spaces, '/', '%', any script
    client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "fails", run("Check hello", "echo hello"),
        run("This step fails", "exit 5"), run("Never / 100% reached ✓", "true"))).create();
    NixekJob done = awaitTerminal("fails");
    assertThat(succeeded(done).getReason()).isEqualTo("StepFailed");
    assertThat(succeeded(done).getMessage()).isEqualTo("step 'This step fails' (2/3) failed with exit code 5");
    assertThat(done.getStatus().steps).extracting(s -> s.name, s -> s.state).containsExactly(
        org.assertj.core.groups.Tuple.tuple("Check hello", State.Succeeded),
        org.assertj.core.groups.Tuple.tuple("This step fails", State.Failed),
        org.assertj.core.groups.Tuple.tuple("Never / 100% reached ✓", State.Skipped));
    assertThat(done.getStatus().steps.get(0).outputTail).isEqualTo("hello\n");
  }

  @Test
  void deletingARunningJobTerminatesItsMachineBeforeTheObjectDisappears() throws Exception {
    client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "doomed",
        run("forever", "echo started; sleep 600"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      NixekJob j = get("doomed");
      return j.getStatus() != null && j.getStatus().steps != null && j.getStatus().steps.get(0).state == State.Running;
    });
    String machine = get("doomed").getStatus().instanceId;
    Path machineDir = stack.work().resolve("machines").resolve(machine);
    long agentPid = agentPid(machineDir);
    List<String> seenAtDeletion = new CopyOnWriteArrayList<>();
    try (Watch w = client.resources(NixekJob.class).inNamespace(ns).withName("doomed").watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, NixekJob resource) {
        if (action == Action.DELETED) {
          // at the moment the object is gone, the machine must already be terminated
          seenAtDeletion.add("terminated-marker=" + Files.exists(machineDir.resolve("terminated"))
              + " agent-alive=" + ProcessHandle.of(agentPid).map(ProcessHandle::isAlive).orElse(false));
        }
      }

      @Override
      public void onClose(WatcherException cause) {}
    })) {
      client.resources(NixekJob.class).inNamespace(ns).withName("doomed").delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> !seenAtDeletion.isEmpty());
    }
    assertThat(seenAtDeletion).containsExactly("terminated-marker=true agent-alive=false");
  }

  @Test
  void anOperatorRestartMidJobLaunchesNothingTwice() throws Exception {
    client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "restart",
        run("first", "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done"), run("second", "echo second"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      NixekJob j = get("restart");
      return j.getStatus() != null && j.getStatus().steps != null && j.getStatus().steps.get(0).state == State.Running;
    });
    stack.stopOperator();
    Thread.sleep(2000);
    stack.startOperator();
    NixekJob done = awaitTerminal("restart");
    assertThat(succeeded(done).getStatus()).as(succeeded(done).getMessage()).isEqualTo("True");
    assertThat(done.getStatus().steps.get(0).outputBytes).isEqualTo(6L * "tick 1\n".length());
    try (Stream<Path> machines = Files.list(stack.work().resolve("machines"))) {
      assertThat(machines.toList()).as("local machines launched").hasSize(1);
    }
    long launched = client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> "restart".equals(e.getInvolvedObject().getName()) && "Launched".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum();
    assertThat(launched).as("Launched events").isEqualTo(1);
  }

  private static long agentPid(Path machineDir) {
    String config = machineDir.resolve("config.json").toString();
    return ProcessHandle.allProcesses()
        .filter(h -> h.info().arguments().map(a -> List.of(a).contains(config)).orElse(false))
        .findFirst().orElseThrow().pid();
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(90)).until(() -> get(name) != null && Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
