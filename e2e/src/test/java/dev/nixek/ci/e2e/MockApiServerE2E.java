package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.command;
import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on the fabric8 mock API server: operator (in this JVM, SSA off as the mock requires), report API (its
 * own process), the real agent (started by the local provider). The same scenarios run with production settings on
 * a real kube-apiserver in {@code RealApiServerE2E}.
 */
@EnableKubernetesMockClient(crud = true, https = true)
class MockApiServerE2E {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @TempDir
  Path work;
  private Stack stack;

  @BeforeEach
  void start() throws Exception {
    TestJobs.createCrds(client);
    Path kubeconfig = work.resolve("kubeconfig");
    Files.writeString(kubeconfig, Stack.kubeconfig(client.getMasterUrl().toString(), "mock"));
    stack = Stack.start(client, kubeconfig, work, false, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    stack.close();
  }

  @Test
  void aThreeStepJobSucceedsWithExitCodesAndOutputInStatus() {
    NixekJob j = job("default", "three", run("greet", "echo \"hello $WHO\""), run("build", "echo built > out.txt"),
        command("test", "cat", "out.txt"));
    j.getSpec().env = Map.of("WHO", "nixek");
    client.resources(NixekJob.class).resource(j).create();
    NixekJob done = awaitTerminal("three");
    assertThat(succeeded(done).getStatus()).as(succeeded(done).getMessage()).isEqualTo("True");
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
    assertThat(done.getStatus().steps).extracting(s -> s.exitCode).containsOnly(0);
    assertThat(done.getStatus().steps.get(0).outputTail).isEqualTo("hello nixek\n");
    assertThat(done.getStatus().steps.get(2).outputTail).isEqualTo("built\n");
    assertThat(done.getStatus().steps.get(2).outputBytes).isEqualTo(6);
    assertThat(done.getStatus().currentStep).isEqualTo("3/3");
  }

  @Test
  void aFailingStepFailsTheJob() {
    client.resources(NixekJob.class).resource(job("default", "failing", run("ok", "true"),
        run("broken", "echo oops >&2; exit 4"), run("never", "touch never"))).create();
    NixekJob done = awaitTerminal("failing");
    assertThat(succeeded(done).getReason()).isEqualTo("StepFailed");
    assertThat(succeeded(done).getMessage()).isEqualTo("step 'broken' (2/3) failed with exit code 4");
    NixekStepStatus broken = done.getStatus().steps.get(1);
    assertThat(broken.exitCode).isEqualTo(4);
    assertThat(broken.outputTail).isEqualTo("oops\n");
    assertThat(done.getStatus().steps.get(2).state).isEqualTo(State.Skipped);
  }

  @Test
  void theReportApiDownForFiveSecondsMidStepLosesNothing() throws Exception {
    // 40 lines over ~8 s; the report API dies after the first lines arrive and comes back 5 s later
    String script = "for i in $(seq 1 40); do printf 'line %02d\\n' $i; sleep 0.2; done";
    client.resources(NixekJob.class).resource(job("default", "outage", run("talk", script), run("after", "echo done")))
        .create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      NixekJob j = get("outage");
      return j.getStatus() != null && j.getStatus().steps != null && j.getStatus().steps.get(0).outputBytes != null
          && j.getStatus().steps.get(0).outputBytes > 0;
    });
    stack.killReportApi();
    Thread.sleep(5000);
    stack.startReportApi();
    NixekJob done = awaitTerminal("outage");
    assertThat(succeeded(done).getStatus()).as(succeeded(done).getMessage()).isEqualTo("True");
    NixekStepStatus talk = done.getStatus().steps.get(0);
    assertThat(talk.outputBytes).as("every byte the step printed").isEqualTo(40L * "line 00\n".length());
    assertThat(talk.outputTail).endsWith("line 39\nline 40\n").startsWith("line 01\n");
    assertThat(done.getStatus().steps.get(1).outputTail).isEqualTo("done\n");
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace("default").withName(name).get();
  }

  private NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(90)).until(() -> Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
