package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.operator.testing.TestJobs;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekEvaluatedMachine;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.common.Labels;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.MockJobOperator;
import dev.nixek.ci.operator.testing.Reports;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The job reconciler's side of evaluation against the fabric8 mock API server (SSA off): the test plays the kubelet
 * (it sets the evaluation pod's status) and the report API ({@link Reports#evaluation}). What is created for the pod,
 * how each way a pod can end becomes the job's condition, and what happens to the token afterwards.
 */
@EnableKubernetesMockClient(crud = true)
class JobEvaluationMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private static final String DRV = "/nix/store/7lk0y9rlzhfdr1459v3aaljbvzkcxhql-nixos-image-amazon-25.05.stub-x86_64-linux.drv";
  private final FakeMachineProvider provider = new FakeMachineProvider();
  private MockJobOperator operator;
  private Reports reports;
  private JobTokens tokens;

  @BeforeEach
  void start() {
    operator = MockJobOperator.start(client, provider, NS, Map.of(
        "NIXEK_REPORT_URL", "http://report.example:8080",
        "NIXEK_EVAL_REPORT_URL", "http://nixek-report-api.nixek-system.svc:8080",
        "NIXEK_EVAL_TIMEOUT_SECONDS", "300",
        "NIXEK_EVAL_MEMORY_LIMIT", "3Gi",
        "NIXEK_IMAGE_NIXPKGS", "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567"));
    tokens = operator.tokens();
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    operator.close();
    client.resources(NixekJob.class).inAnyNamespace().delete();
    client.pods().inAnyNamespace().delete();
    client.secrets().inAnyNamespace().delete();
  }

  @Test
  void aNixJobIsEvaluatedInAPodThenRunsItsEvaluatedSteps() {
    NixekJob job = create(nixJob("seed", "{ steps = [ ]; }"));
    String uid = job.getMetadata().getUid();
    Pod pod = awaitPod(job);
    NixekJob evaluating = awaitReason("seed", "Evaluating");
    assertThat(succeeded(evaluating).getMessage()).isEqualTo("evaluating spec.nix in pod nixek-eval-" + uid);
    assertThat(evaluating.getStatus().launchToken).isNull();

    // what the pod gets: the job (ConfigMap), the plaintext evaluation token (Secret), its record (hash only)
    assertThat(client.configMaps().inNamespace(NS).withName("nixek-eval-" + uid).get().getData())
        .containsExactly(Map.entry("job.nix", "{ steps = [ ]; }"));
    Secret plain = client.secrets().inNamespace(NS).withName("nixek-eval-" + uid).get();
    String token = new String(Base64.getDecoder().decode(plain.getData().get("token")), StandardCharsets.US_ASCII);
    assertThat(token).isEqualTo(tokens.evaluationTokenFor(uid));
    assertThat(JobTokens.looksLikeToken(token, JobTokens.Purpose.EVALUATION)).isTrue();
    assertThat(plain.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(uid));
    assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("seed").get().getStatus()
        .evaluationTokenSha256).as("the token's record").isEqualTo(JobTokens.sha256Hex(token));
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).containsSubsequence("--report-url",
        "http://nixek-report-api.nixek-system.svc:8080", "--job", NS + "/seed");
    assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("seed").get().toString())
        .doesNotContain(token);

    reports.evaluation(NS, "seed", evaluation(DRV, run("build", "cargo build --release"), run("test", "cargo test")));
    setPodStatus(pod, phase("Succeeded", 0, "{\"result\":\"applied\",\"steps\":2}", null));

    NixekJob running = awaitReason("seed", "Running");
    assertThat(running.getStatus().currentStep).isEqualTo("0/2");
    assertThat(provider.request(provider.launched().get(0)).agentConfig().steps()).extracting(s -> s.name(),
        s -> s.run()).containsExactly(org.assertj.core.groups.Tuple.tuple("build", "cargo build --release"),
        org.assertj.core.groups.Tuple.tuple("test", "cargo test"));
    await().untilAsserted(() -> {
      assertThat(client.secrets().inNamespace(NS).withName("nixek-eval-" + uid).get()).as("plaintext token").isNull();
      assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("seed").get().getStatus()
          .evaluationTokenSha256).as("the token's record").isNull();
    });
    assertThat(eventReasons("seed")).contains("EvaluationStarted", "Evaluated", "Launched");
    assertThat(events("seed").stream().filter(e -> "Evaluated".equals(e.getReason())).findFirst().orElseThrow()
        .getMessage()).isEqualTo("spec.nix evaluated to 2 steps and machine " + DRV);

    reports.step(NS, "seed", 0, 0);
    reports.step(NS, "seed", 1, 0);
    NixekJob done = awaitReason("seed", "Succeeded");
    assertThat(done.getStatus().currentStep).isEqualTo("2/2");
    assertThat(done.getStatus().evaluation.steps).hasSize(2);
  }

  @Test
  void aFlakeJobsPodEvaluatesThePinnedRefAndTheDefaultAttribute() {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName("hello-world").build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+https://example.com/org/repo?ref=main";
    job.getSpec().flake.rev = "0123456789abcdef0123456789abcdef01234567";
    job = create(job);
    Pod pod = awaitPod(job);
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).containsSubsequence("--flake",
        "git+https://example.com/org/repo?ref=main&rev=0123456789abcdef0123456789abcdef01234567", "--attribute",
        "ci.jobs.hello-world");
    assertThat(client.configMaps().inNamespace(NS).withName(pod.getMetadata().getName()).get())
        .as("a flake job needs no ConfigMap").isNull();
    assertThat(succeeded(awaitReason("hello-world", "Evaluating")).getMessage()).startsWith(
        "evaluating git+https://example.com/org/repo?ref=main&rev=0123456789abcdef0123456789abcdef01234567"
            + "#ci.jobs.hello-world in pod nixek-eval-");
  }

  @Test
  void theEvaluationsErrorEndsTheJobEvaluationFailedWithAWarning() {
    NixekJob job = create(nixJob("broken", "{ steps = [ ]; }"));
    Pod pod = awaitPod(job);
    setPodStatus(pod, phase("Failed", 2,
        "{\"error\":\"nixek: 'steps' is empty: a job needs at least one step\",\"logTail\":\"...\"}", null));
    NixekJob done = awaitReason("broken", "EvaluationFailed");
    assertThat(succeeded(done).getStatus()).isEqualTo("False");
    assertThat(succeeded(done).getMessage()).isEqualTo(
        "evaluation of spec.nix failed: nixek: 'steps' is empty: a job needs at least one step");
    assertThat(done.getStatus().completionTime).isNotNull();
    assertThat(provider.launched()).isEmpty();
    Event warning = events("broken").stream().filter(e -> "EvaluationFailed".equals(e.getReason())).findFirst()
        .orElseThrow();
    assertThat(warning.getType()).isEqualTo("Warning");
    assertThat(warning.getMessage()).isEqualTo(succeeded(done).getMessage());
    await().untilAsserted(() -> assertThat(client.secrets().inNamespace(NS)
        .withName("nixek-eval-" + job.getMetadata().getUid()).get()).isNull());
  }

  @Test
  void aPodKilledWithoutAMessageSaysWhy() {
    NixekJob oom = create(nixJob("oom", "{ }"));
    setPodStatus(awaitPod(oom), phase("Failed", 137, null, "OOMKilled"));
    assertThat(succeeded(awaitReason("oom", "EvaluationFailed")).getMessage()).isEqualTo("evaluation of spec.nix "
        + "failed: the evaluation ran out of memory (its limit of 3Gi, NIXEK_EVAL_MEMORY_LIMIT) and was killed");

    NixekJob slow = create(nixJob("slow", "{ }"));
    Pod pod = awaitPod(slow);
    setPodStatus(pod, new PodStatusBuilder().withPhase("Failed").withReason("DeadlineExceeded")
        .withMessage("Pod was active on the node longer than the specified deadline").build());
    assertThat(succeeded(awaitReason("slow", "EvaluationFailed")).getMessage()).isEqualTo("evaluation of spec.nix "
        + "failed: the evaluation ran longer than 300s and was stopped (NIXEK_EVAL_TIMEOUT_SECONDS)");

    NixekJob silent = create(nixJob("silent", "{ }"));
    setPodStatus(awaitPod(silent), phase("Succeeded", 0, "", null));
    assertThat(succeeded(awaitReason("silent", "EvaluationFailed")).getMessage()).isEqualTo("evaluation of "
        + "spec.nix failed: the evaluation pod nixek-eval-" + silent.getMetadata().getUid() + " ended, but its result "
        + "was not recorded");
  }

  @Test
  void aVanishedPodIsStartedAgain() {
    NixekJob job = create(nixJob("vanished", "{ }"));
    Pod first = awaitPod(job);
    client.pods().inNamespace(NS).withName(first.getMetadata().getName()).delete();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Pod again = client.pods().inNamespace(NS).withName(first.getMetadata().getName()).get();
      assertThat(again).isNotNull();
      assertThat(again.getMetadata().getUid()).isNotEqualTo(first.getMetadata().getUid());
    });
    assertThat(Conditions.isTerminal(get("vanished").getStatus())).isFalse();
  }

  @Test
  void aPodTheApiServerRefusesIsEvaluationPendingWithTheCauseUntilItCanBeCreated() {
    // the API server of a namespace without its default ServiceAccount, three times; then the ServiceAccount is there
    server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(403, new StatusBuilder()
        .withStatus("Failure").withCode(403).withReason("Forbidden").withMessage("pods \"nixek-eval-x\" is "
            + "forbidden: error looking up service account ci/default: serviceaccount \"default\" not found")
        .build()).times(3);
    NixekJob job = create(nixJob("no-sa", "{ }"));
    String name = "nixek-eval-" + job.getMetadata().getUid();
    NixekJob pending = awaitReason("no-sa", "EvaluationPending");
    String message = "the evaluation pod " + name + " cannot be created: pods \"nixek-eval-x\" is forbidden: error "
        + "looking up service account ci/default: serviceaccount \"default\" not found";
    assertThat(succeeded(pending).getStatus()).isEqualTo("Unknown");
    assertThat(succeeded(pending).getMessage()).isEqualTo(message);
    assertThat(events("no-sa")).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getReason()).isEqualTo("EvaluationPending");
      assertThat(e.getMessage()).isEqualTo(message);
    });

    // retried by the operator, the job untouched: the pod appears once the API server takes it
    awaitPod(job);
    NixekJob evaluating = awaitReason("no-sa", "Evaluating");
    assertThat(succeeded(evaluating).getMessage()).isEqualTo("evaluating spec.nix in pod " + name);
    assertThat(eventReasons("no-sa")).containsExactlyInAnyOrder("EvaluationPending", "EvaluationStarted");
    assertThat(events("no-sa").stream().filter(e -> "EvaluationPending".equals(e.getReason())).findFirst()
        .orElseThrow().getCount()).as("one Event per cause, not per attempt").isEqualTo(1);
  }

  @Test
  void aRefusedSecretIsEvaluationPendingTooAndNamesTheSecret() {
    server.expect().post().withPath("/api/v1/namespaces/" + NS + "/secrets").andReturn(403, new StatusBuilder()
        .withStatus("Failure").withCode(403).withReason("Forbidden").withMessage("secrets \"s\" is forbidden: "
            + "exceeded quota: objects, requested: secrets=1, used: secrets=10, limited: secrets=10").build())
        .times(2);
    NixekJob job = create(nixJob("quota", "{ }"));
    NixekJob pending = awaitReason("quota", "EvaluationPending");
    assertThat(succeeded(pending).getMessage()).isEqualTo("the evaluation pod's Secret nixek-eval-"
        + job.getMetadata().getUid() + " cannot be created: secrets \"s\" is forbidden: exceeded quota: objects, "
        + "requested: secrets=1, used: secrets=10, limited: secrets=10");
    assertThat(eventReasons("quota")).containsExactly("EvaluationPending");
    awaitPod(job);
    awaitReason("quota", "Evaluating");
  }

  @Test
  void aPodKubernetesKeepsPendingSaysWhyOncePerCauseAndGoesOnWhenItStarts() throws Exception {
    NixekJob job = create(nixJob("stuck", "{ }"));
    Pod pod = awaitPod(job);
    String name = pod.getMetadata().getName();
    setPodStatus(pod, new PodStatusBuilder().withPhase("Pending").addNewCondition().withType("PodScheduled")
        .withStatus("False").withReason("Unschedulable").withMessage("0/1 nodes are available: 1 node(s) didn't "
            + "match Pod's node affinity/selector.").endCondition().build());
    String unschedulable = "the evaluation pod " + name + " cannot be scheduled: 0/1 nodes are available: 1 node(s) "
        + "didn't match Pod's node affinity/selector.";
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(succeeded(get("stuck")).getMessage())
        .isEqualTo(unschedulable));
    assertThat(succeeded(get("stuck")).getReason()).isEqualTo("EvaluationPending");
    Thread.sleep(3000); // three polls (NIXEK_POLL_SECONDS=1) find the same cause again
    assertThat(events("stuck")).filteredOn(e -> "EvaluationPending".equals(e.getReason())).singleElement()
        .satisfies(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).isEqualTo(unschedulable);
          assertThat(e.getCount()).isEqualTo(1);
        });

    setPodStatus(pod, new PodStatusBuilder().withPhase("Pending").withContainerStatuses(new ContainerStatusBuilder()
        .withName(EvaluationPods.CONTAINER).withNewState().withNewWaiting().withReason("ErrImagePull")
        .withMessage("failed to pull and unpack image").endWaiting().endState().build()).build());
    String pull = "the evaluation pod " + name + " cannot pull its image "
        + pod.getSpec().getContainers().get(0).getImage() + " (ErrImagePull: failed to pull and unpack image)";
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(succeeded(get("stuck")).getMessage())
        .isEqualTo(pull));
    await().untilAsserted(() -> assertThat(events("stuck")).filteredOn(e -> "EvaluationPending".equals(e.getReason()))
        .extracting(Event::getMessage).containsExactlyInAnyOrder(unschedulable, pull));

    setPodStatus(pod, new PodStatusBuilder().withPhase("Running").build());
    NixekJob running = awaitReason("stuck", "Evaluating");
    assertThat(succeeded(running).getMessage()).isEqualTo("evaluating spec.nix in pod " + name);
    assertThat(Conditions.isTerminal(running.getStatus())).isFalse();
  }

  @Test
  void aPodThatReachedItsDeadlineWithoutStartingIsReplacedNotTheJobFailed() {
    NixekJob job = create(nixJob("never-pulled", "{ }"));
    Pod first = awaitPod(job);
    String image = first.getSpec().getContainers().get(0).getImage();
    setPodStatus(first, new PodStatusBuilder().withPhase("Failed").withReason("DeadlineExceeded")
        .withMessage("Pod was active on the node longer than the specified deadline")
        .withContainerStatuses(new ContainerStatusBuilder().withName(EvaluationPods.CONTAINER).withNewState()
            .withNewWaiting().withReason("ImagePullBackOff").withMessage("Back-off pulling image").endWaiting()
            .endState().build()).build());
    String replaced = "the evaluation pod " + first.getMetadata().getName() + " did not start within 300s "
        + "(NIXEK_EVAL_TIMEOUT_SECONDS): it cannot pull its image " + image + " (ImagePullBackOff: Back-off pulling "
        + "image); it is replaced";
    // the deleted pod wakes the job at once, and its replacement is made then (the deadline was the wait): the
    // condition moves on, the Warning Event stays
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(events("never-pulled"))
        .anySatisfy(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getReason()).isEqualTo("EvaluationPending");
          assertThat(e.getMessage()).isEqualTo(replaced);
        }));
    // a new pod of the same name (another uid); the job never ends
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Pod again = client.pods().inNamespace(NS).withName(first.getMetadata().getName()).get();
      assertThat(again).isNotNull();
      assertThat(again.getMetadata().getUid()).isNotEqualTo(first.getMetadata().getUid());
    });
    assertThat(Conditions.isTerminal(get("never-pulled").getStatus())).isFalse();
    assertThat(eventReasons("never-pulled")).doesNotContain("EvaluationFailed");
  }

  @Test
  void cancellingWhileEvaluatingStopsThePodAndKillsTheToken() {
    NixekJob job = create(nixJob("cancelled", "{ }"));
    Pod pod = awaitPod(job);
    TestJobs.cancel(client, NS, "cancelled");
    NixekJob done = awaitReason("cancelled", "Cancelled");
    assertThat(succeeded(done).getMessage()).contains("while its Nix expression was evaluated");
    await().untilAsserted(() -> {
      assertThat(client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get()).isNull();
      assertThat(client.secrets().inNamespace(NS).withName(pod.getMetadata().getName()).get()).isNull();
      assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("cancelled").get().getStatus()
          .evaluationTokenSha256).as("the token's record").isNull();
    });
    assertThat(provider.launched()).isEmpty();
  }

  @Test
  void aJobOfTwoFormsIsInvalidAndStartsNoPod() {
    NixekJob job = nixJob("two-forms", "{ }");
    job.getSpec().steps = List.of(run("a", "true"));
    create(job);
    NixekJob done = awaitReason("two-forms", "InvalidSpec");
    assertThat(succeeded(done).getMessage()).isEqualTo("invalid job, nothing launched: spec.steps: set only one of "
        + "spec.nix, spec.flake and spec.steps (also spec.nix)");
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
  }

  private static NixekJob nixJob(String name, String nix) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = nix;
    return job;
  }

  private static NixekJobEvaluation evaluation(String drvPath, dev.nixek.ci.api.v1alpha1.NixekJobStep... steps) {
    NixekJobEvaluation e = new NixekJobEvaluation();
    e.steps = List.of(steps);
    e.machine = new NixekEvaluatedMachine();
    e.machine.drvPath = drvPath;
    e.machine.system = "x86_64-linux";
    return e;
  }

  private static io.fabric8.kubernetes.api.model.PodStatus phase(String phase, int exitCode, String message,
      String reason) {
    return new PodStatusBuilder().withPhase(phase).withContainerStatuses(new ContainerStatusBuilder()
        .withName(EvaluationPods.CONTAINER).withNewState().withNewTerminated().withExitCode(exitCode)
        .withMessage(message).withReason(reason).endTerminated().endState().build()).build();
  }

  private void setPodStatus(Pod pod, io.fabric8.kubernetes.api.model.PodStatus status) {
    UnaryOperator<Pod> edit = p -> {
      p.setStatus(status);
      return p;
    };
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).editStatus(edit);
  }

  private Pod awaitPod(NixekJob job) {
    String name = "nixek-eval-" + job.getMetadata().getUid();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(NS).withName(name).get() != null);
    return client.pods().inNamespace(NS).withName(name).get();
  }

  private NixekJob create(NixekJob j) {
    return client.resources(NixekJob.class).inNamespace(NS).resource(j).create();
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(NS).withName(name).get();
  }

  private NixekJob awaitReason(String name, String reason) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      NixekJob j = get(name);
      assertThat(j.getStatus()).isNotNull();
      Condition c = succeeded(j);
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo(reason);
    });
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }

  private List<Event> events(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  private List<String> eventReasons(String name) {
    return events(name).stream().map(Event::getReason).toList();
  }
}
