package dev.nixek.ci.operator.job;

import dev.nixek.ci.operator.testing.TestJobs;
import static dev.nixek.ci.operator.testing.TestJobs.command;
import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.MockJobOperator;
import dev.nixek.ci.operator.testing.Reports;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The job reconciler against the fabric8 mock API server (CRUD mode, no server-side apply): the operator runs as in
 * production but with SSA off, and a fake provider stands in for machines. The report API's writes are played by
 * {@link Reports}, with the same StepsWriter the report API uses.
 */
@EnableKubernetesMockClient(crud = true)
class NixekJobReconcilerMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private final FakeMachineProvider provider = new FakeMachineProvider();
  private MockJobOperator operator;
  private Reports reports;

  @BeforeEach
  void start() {
    operator = MockJobOperator.start(client, provider, NS, Map.of());
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    operator.close();
    client.resources(NixekJob.class).inAnyNamespace().delete();
  }

  @Test
  void aJobIsLaunchedOnceAndSucceedsWhenItsStepsDo() {
    NixekJob created = create(job(NS, "hello", run("build", "echo hi"), command("test", "true")));
    NixekJob running = awaitReason("hello", "Running");
    assertThat(provider.launched()).hasSize(1);
    String machine = provider.launched().get(0);
    assertThat(running.getStatus().instanceId).isEqualTo(machine);
    assertThat(running.getStatus().launchToken).isEqualTo("nixek-" + created.getMetadata().getUid() + "-1");
    assertThat(running.getStatus().startTime).isNotNull();
    assertThat(running.getStatus().currentStep).isEqualTo("0/2");
    assertThat(running.getStatus().observedGeneration).isEqualTo(running.getMetadata().getGeneration());
    // where the whole log is, for kubectl describe (docs/logs.md#reading-logs), from NIXEK_REPORT_URL
    assertThat(running.getStatus().logs.url).isEqualTo("http://127.0.0.1:8080/v1/logs/ci/hello");
    assertThat(running.getStatus().logs.command).isEqualTo("kubectl nixek logs -f -n ci hello");

    // the token: handed to the provider, only its hash stored, in the job's status (where a co-tenant who may
    // create Secrets cannot write) — and no Secret at all
    String token = provider.request(machine).agentConfig().token();
    assertThat(JobTokens.looksLikeToken(token)).isTrue();
    assertThat(JobTokens.matches(token, running.getStatus().stepTokenSha256)).isTrue();
    assertThat(client.secrets().inNamespace(NS).list().getItems()).extracting(s -> s.getMetadata().getName())
        .containsExactly("nixek-ci-token-key");
    assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("hello").get().toString()).doesNotContain(token);
    assertThat(provider.request(machine).agentConfig().steps()).extracting(s -> s.name()).containsExactly("build", "test");

    report("hello", 0, 0);
    report("hello", 1, 0);
    NixekJob done = awaitReason("hello", "Succeeded");
    assertThat(succeeded(done).getStatus()).isEqualTo("True");
    assertThat(done.getStatus().completionTime).isNotNull();
    assertThat(done.getStatus().logs.url).as("kept by every later status write").endsWith("/v1/logs/ci/hello");
    assertThat(done.getStatus().currentStep).isEqualTo("2/2");
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsExactly(State.Succeeded, State.Succeeded);
    await().untilAsserted(() -> assertThat(provider.terminated()).containsExactly(machine));
    assertThat(provider.launched()).hasSize(1);
    assertThat(eventReasons("hello")).contains("Launched", "Succeeded", "MachineTerminated");
  }

  @Test
  void exitCode127SaysTheCommandWasNotFound() {
    create(job(NS, "missing", run("build", "cargo build --release")));
    awaitReason("missing", "Running");
    report("missing", 0, 127);
    assertThat(succeeded(awaitReason("missing", "StepFailed")).getMessage()).isEqualTo("step 'build' (1/1) failed "
        + "with exit code 127 (command not found: the machine has no such program on its PATH)");
  }

  @Test
  void aFailingStepFailsTheJobNamingStepAndExitCode() {
    create(job(NS, "fails", run("a", "true"), run("b", "exit 3"), run("c", "true")));
    awaitReason("fails", "Running");
    report("fails", 0, 0);
    report("fails", 1, 3);
    NixekJob done = awaitReason("fails", "StepFailed");
    assertThat(succeeded(done).getStatus()).isEqualTo("False");
    assertThat(succeeded(done).getMessage()).isEqualTo("step 'b' (2/3) failed with exit code 3");
    assertThat(done.getStatus().steps).extracting(s -> s.state)
        .containsExactly(State.Succeeded, State.Failed, State.Skipped);
    await().untilAsserted(() -> assertThat(provider.terminated()).hasSize(1));
    assertThat(eventReasons("fails")).contains("StepFailed", "Failed");
    Event stepFailed = events("fails").stream().filter(e -> "StepFailed".equals(e.getReason())).findFirst().get();
    assertThat(stepFailed.getType()).isEqualTo("Warning");
  }

  static List<Object[]> invalidJobs() {
    return List.of(
        new Object[] {"no-steps", (Consumer<NixekJob>) j -> j.getSpec().steps = List.of(), "spec.steps: at least one step"},
        new Object[] {"dup-names", (Consumer<NixekJob>) j -> j.getSpec().steps = List.of(run("x", "true"), run("x", "true")),
            "spec.steps[1].name: duplicate step name 'x'"},
        new Object[] {"both", (Consumer<NixekJob>) j -> {
          NixekJobStep s = run("x", "true");
          s.command = List.of("true");
          j.getSpec().steps = List.of(s);
        }, "spec.steps[0]: step 'x' has both run and command"},
        new Object[] {"neither", (Consumer<NixekJob>) j -> j.getSpec().steps = List.of(new NixekJobStep() {
          {
            name = "x";
          }
        }), "spec.steps[0]: step 'x' has neither run nor command"},
        new Object[] {"no-image", (Consumer<NixekJob>) j -> j.getSpec().machine = null,
            "spec.machineImageName: a machine is required"},
        new Object[] {"no-name", (Consumer<NixekJob>) j -> j.getSpec().steps = List.of(run(null, "true")),
            "spec.steps[0].name: is required"},
        // a clone URL no delivered credential can fetch (stored before the schema refused it)
        new Object[] {"ssh-source", (Consumer<NixekJob>) j -> j.getSpec().source =
            new dev.nixek.ci.api.v1alpha1.NixekJobSource("ssh://git@git.example.com/o/r.git", "a".repeat(40)),
            "spec.source.url: ssh:// is not supported: no SSH key is delivered"},
        // the installation's cost limits (defaults: only the default instance type, at most a day)
        new Object[] {"gpu", (Consumer<NixekJob>) j -> j.getSpec().instanceType = "p5.48xlarge",
            "spec.instanceType: 'p5.48xlarge' is not allowed by this installation (allowed: m7i.large;"},
        new Object[] {"week-long", (Consumer<NixekJob>) j -> j.getSpec().timeoutSeconds = 604800L,
            "spec.timeoutSeconds: 604800 is more than this installation's maximum of 86400"});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidJobs")
  void anInvalidJobFailsWithTheFieldNamedAndLaunchesNothing(String name, Consumer<NixekJob> breakIt, String message) {
    NixekJob j = job(NS, name, run("ok", "true"));
    breakIt.accept(j);
    create(j);
    NixekJob done = awaitReason(name, "InvalidSpec");
    assertThat(succeeded(done).getStatus()).isEqualTo("False");
    assertThat(succeeded(done).getMessage()).contains(message);
    Event warning = events(name).stream().filter(e -> "InvalidSpec".equals(e.getReason())).findFirst().orElseThrow();
    assertThat(warning.getType()).isEqualTo("Warning");
    assertThat(warning.getMessage()).contains(message);
    assertThat(provider.launched()).isEmpty();
    assertThat(done.getStatus().launchToken).isNull();
    assertThat(client.secrets().inNamespace(NS).withLabel(Labels.JOB_UID, done.getMetadata().getUid()).list().getItems())
        .isEmpty();
  }

  @Test
  void deletingARunningJobTerminatesItsMachineFirst() {
    create(job(NS, "doomed", run("sleep", "sleep 600")));
    awaitReason("doomed", "Running");
    String machine = provider.launched().get(0);
    report("doomed", 0, null);
    client.resources(NixekJob.class).inNamespace(NS).withName("doomed").delete();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("doomed").get()).isNull());
    assertThat(provider.terminated()).containsExactly(machine);
  }

  @Test
  void cancellingTerminatesTheMachine() {
    create(job(NS, "cancel-me", run("sleep", "sleep 600")));
    awaitReason("cancel-me", "Running");
    TestJobs.cancel(client, NS, "cancel-me");
    NixekJob done = awaitReason("cancel-me", "Cancelled");
    assertThat(succeeded(done).getStatus()).isEqualTo("False");
    assertThat(provider.terminated()).containsExactly(provider.launched().get(0));
  }

  @Test
  void aMachineThatDiesBeforeTheEndIsInstanceLost() {
    create(job(NS, "lost", run("a", "true"), run("b", "true")));
    awaitReason("lost", "Running");
    report("lost", 0, 0);
    provider.kill(provider.launched().get(0));
    NixekJob done = awaitReason("lost", "InstanceLost");
    assertThat(succeeded(done).getMessage()).contains(provider.launched().get(0)).contains("killed by the test");
  }

  @Test
  void aMachineWhoseAgentSaidWhyItStoppedIsInstanceLostWithTheAgentsAccount() {
    create(job(NS, "refused", run("a", "true"), run("b", "true")));
    awaitReason("refused", "Running");
    report("refused", 0, null);
    reports.agentEnded(NS, "refused", 4, "the report API refused a report: .../steps/0/output answered 409 conflict");
    provider.kill(provider.launched().get(0));
    NixekJob done = awaitReason("refused", "InstanceLost");
    // on EC2 the operator sees only a terminated instance: the agent's own account is what says what happened
    assertThat(succeeded(done).getMessage()).contains(provider.launched().get(0))
        .contains("the agent stopped the job with exit code 4: the report API refused a report")
        .contains("409 conflict").doesNotContain("killed by the test");
  }

  @Test
  void aJobPastItsTimeoutIsTerminated() {
    NixekJob j = job(NS, "slow", run("sleep", "sleep 600"));
    j.getSpec().timeoutSeconds = 2L;
    create(j);
    NixekJob done = awaitReason("slow", "TimedOut");
    assertThat(succeeded(done).getMessage()).contains("longer than 2s");
    assertThat(provider.terminated()).containsExactly(provider.launched().get(0));
  }

  @Test
  void aPermanentLaunchFailureFailsTheJobWithoutLoops() {
    provider.failNextLaunch(new LaunchException("user-data is 17000 bytes; EC2 allows 16384", true, null));
    create(job(NS, "too-big", run("a", "true")));
    NixekJob done = awaitReason("too-big", "LaunchFailed");
    assertThat(succeeded(done).getMessage()).contains("16384");
    assertThat(provider.launched()).isEmpty();
  }

  @Test
  void statusIsNotRewrittenWhenNothingChanged() throws InterruptedException {
    create(job(NS, "quiet", run("sleep", "sleep 600")));
    awaitReason("quiet", "Running");
    report("quiet", 0, null);
    await().untilAsserted(() -> assertThat(get("quiet").getStatus().currentStep).isEqualTo("1/1"));
    String rv = get("quiet").getMetadata().getResourceVersion();
    Thread.sleep(3500); // three poll intervals: each reconcile finds nothing new
    assertThat(get("quiet").getMetadata().getResourceVersion()).isEqualTo(rv);
  }

  /** Plays the report API: step {@code index} starts and, unless exitCode is null, finishes. */
  private void report(String name, int index, Integer exitCode) {
    reports.step(NS, name, index, exitCode);
  }

  private NixekJob create(NixekJob j) {
    return client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
  }

  private NixekJob awaitReason(String name, String reason) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      NixekJob j = get(name);
      assertThat(j.getStatus()).as("status of %s", j).isNotNull();
      assertThat(succeeded(j)).isNotNull();
      assertThat(succeeded(j).getReason()).as("%s", io.fabric8.kubernetes.client.utils.Serialization.asJson(j.getStatus())).isEqualTo(reason);
    });
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElse(null);
  }

  private List<Event> events(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  private List<String> eventReasons(String name) {
    return events(name).stream().map(Event::getReason).toList();
  }
}
