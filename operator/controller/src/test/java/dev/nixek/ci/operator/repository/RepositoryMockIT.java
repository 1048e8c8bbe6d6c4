package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryPullRequests;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryWebhook;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.common.seal.SealContexts;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.testing.GitRepos;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository reconciler against the fabric8 mock API server (SSA off) with a real local git repository (file://,
 * real git ls-remote); the test plays the kubelet of the commit evaluation pods (it writes their termination message,
 * as the builder's job-names command would) and the report API's webhook nudge (status.webhook).
 */
@EnableKubernetesMockClient(crud = true)
class RepositoryMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  private static final String WEBHOOK_SECRET = "whs-" + UUID.randomUUID();
  private final Sealer sealer = new Sealer(SealKey.random());
  private Operator operator;
  @TempDir
  Path dir;
  private Path work;

  @BeforeEach
  void start() throws Exception {
    TestJobs.createCrds(client);
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("NIXEK_USE_SSA", "false", "NIXEK_OPERATOR_NAMESPACE", NS,
        "NIXEK_REPOSITORY_ALLOW_FILE_URLS", "true", "NIXEK_REPOSITORY_MAX_JOBS_PER_COMMIT", "5"));
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withUseSSAToPatchPrimaryResource(false).withSSABasedCreateUpdateMatchForDependentResources(false));
    operator.register(new NixekRepositoryReconciler(client, config, Clock.systemUTC(),
        new EventRecorder(client, Clock.systemUTC()), () -> sealer, new ForgeClient()));
    operator.start();
    work = dir.resolve("app");
    Files.createDirectories(work);
    client.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("forge").endMetadata()
        .addToData("webhook", Base64.getEncoder().encodeToString(WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8)))
        .build()).create();
  }

  @AfterEach
  void stop() {
    operator.stop();
    client.resources(NixekRepository.class).inAnyNamespace().delete();
    client.resources(NixekJob.class).inAnyNamespace().delete();
    client.pods().inAnyNamespace().delete();
    client.secrets().inAnyNamespace().delete();
    client.v1().events().inAnyNamespace().delete();
  }

  private String commit(String content) throws Exception {
    Files.writeString(work.resolve("flake.nix"), content);
    String sha = GitRepos.commitAll(work);
    new ProcessBuilder("git", "branch", "-M", "main").directory(work.toFile()).start().waitFor();
    return sha;
  }

  private NixekRepository repository(String name, Integer keepCommits) {
    NixekRepository r = new NixekRepository();
    r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    r.setSpec(new NixekRepositorySpec());
    r.getSpec().url = "file://" + work;
    r.getSpec().forge = new NixekRepositoryForge();
    r.getSpec().forge.kind = "gitea";
    r.getSpec().pullRequests = new NixekRepositoryPullRequests();
    r.getSpec().pullRequests.enabled = false;
    r.getSpec().webhookSecretRef = new NixekSecretKeyRef("forge", "webhook");
    r.getSpec().keepCommits = keepCommits;
    r.getSpec().pollInterval = "1h";
    return client.resources(NixekRepository.class).inNamespace(NS).resource(r).create();
  }

  @Test
  void eachCommitsJobsAreMadeOnceTheOldOnesCancelledAndPruned() throws Exception {
    String first = commit("{ outputs = _: { ci.jobs = { }; }; }");
    NixekRepository repo = repository("app", 2);
    Pod pod = awaitPod(repo, first);
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).containsSubsequence("job-names", "--flake",
        "git+file://" + work + "?rev=" + first, "--attribute", "ci.jobs", "--max-jobs", "5");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(repo.getMetadata().getUid()));
    assertThat(awaitReady("app", "EvaluatingCommits").getStatus()).isEqualTo("Unknown");

    answer(pod, "{\"names\":[\"hello\",\"Fails\"]}");
    Condition synced = awaitReady("app", "Synced");
    assertThat(synced.getStatus()).isEqualTo("True");
    List<NixekJob> jobs = jobsOf(first);
    assertThat(jobs).extracting(j -> j.getMetadata().getName()).containsExactlyInAnyOrder(
        "app-" + first.substring(0, 8) + "-hello", JobNaming.jobName("app", first, "Fails"));
    NixekJob hello = jobs.stream().filter(j -> j.getMetadata().getName().endsWith("-hello")).findFirst().orElseThrow();
    assertThat(hello.getSpec().flake.url).isEqualTo("git+file://" + work);
    assertThat(hello.getSpec().flake.rev).isEqualTo(first);
    assertThat(hello.getSpec().flake.attribute).isEqualTo("ci.jobs.hello");
    assertThat(hello.getSpec().source.url).isEqualTo("file://" + work);
    assertThat(hello.getSpec().source.rev).isEqualTo(first);
    assertThat(hello.getMetadata().getLabels()).containsEntry(RepositoryJobs.REPOSITORY_LABEL, "app")
        .containsEntry(RepositoryJobs.REF_LABEL, "heads_main").containsEntry(RepositoryJobs.COMMIT_LABEL, first);
    assertThat(hello.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(repo.getMetadata().getUid()));
    NixekRepository seen = get("app");
    assertThat(seen.getStatus().heads).singleElement().satisfies(h -> {
      assertThat(h.ref).isEqualTo("refs/heads/main");
      assertThat(h.commit).isEqualTo(first);
      assertThat(h.jobs).hasSize(2);
    });
    assertThat(seen.getStatus().lastPollTime).isNotNull();
    // the webhook secret: sealed for this repository only, and nowhere in the status in clear
    assertThat(sealer.openString(seen.getStatus().sealedWebhookSecret, SealContexts.repository("webhook-secret", NS,
        "app", repo.getMetadata().getUid()))).isEqualTo(WEBHOOK_SECRET);
    String statusJson = Serialization.asJson(seen.getStatus());
    assertThat(statusJson).doesNotContain(WEBHOOK_SECRET)
        .doesNotContain(Base64.getEncoder().encodeToString(WEBHOOK_SECRET.getBytes(StandardCharsets.UTF_8)));
    await().untilAsserted(() -> assertThat(client.pods().inNamespace(NS).list().getItems()).as("released").isEmpty());

    // a nudge for the same commit: nothing new (no pod, no job), the sealed blob unchanged
    nudge("app", "d1");
    Thread.sleep(1500);
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.resources(NixekJob.class).inNamespace(NS).list().getItems()).hasSize(2);
    assertThat(get("app").getStatus().sealedWebhookSecret).isEqualTo(seen.getStatus().sealedWebhookSecret);

    // a push and its nudge: the new commit's jobs, the old commit's unfinished ones cancelled
    String second = commit("{ outputs = _: { ci.jobs = { }; }; } # 2");
    nudge("app", "d2");
    answer(awaitPod(repo, second), "{\"names\":[\"hello\"]}");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(jobsOf(second)).hasSize(1);
      assertThat(jobsOf(first)).allSatisfy(j -> assertThat(j.getSpec().cancel).isTrue());
    });
    assertThat(eventReasons("app")).contains("CommitJobsCreated", "JobsSuperseded");

    // a third: keepCommits 2 prunes the first commit's jobs
    String third = commit("{ outputs = _: { ci.jobs = { }; }; } # 3");
    nudge("app", "d3");
    answer(awaitPod(repo, third), "{\"names\":[\"hello\"]}");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(jobsOf(third)).hasSize(1);
      assertThat(jobsOf(first)).isEmpty();
      assertThat(jobsOf(second)).singleElement().satisfies(j -> assertThat(j.getSpec().cancel).isTrue());
    });
    assertThat(eventReasons("app")).contains("JobsPruned");
  }

  @Test
  void aCommitWithoutJobsSaysWhyAndMakesNothing() throws Exception {
    String sha = commit("{ outputs = _: { }; }");
    NixekRepository repo = repository("bare", null);
    answer(awaitPod(repo, sha), "{\"reason\":\"AttributeMissing\",\"error\":\"the flake's outputs have no ci.jobs\"}");
    Condition c = awaitReady("bare", "AttributeMissing");
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getMessage()).contains("refs/heads/main").contains(sha.substring(0, 12)).contains("no ci.jobs");
    assertThat(Conditions.find(get("bare").getStatus().conditions, "Stalled").orElseThrow().getStatus())
        .isEqualTo("True");
    assertThat(get("bare").getStatus().heads).singleElement()
        .satisfies(h -> assertThat(h.reason).isEqualTo("AttributeMissing"));
    assertThat(client.resources(NixekJob.class).inNamespace(NS).list().getItems()).isEmpty();
    Event warning = events("bare").stream().filter(e -> "CommitSkipped".equals(e.getReason())).findFirst()
        .orElseThrow();
    assertThat(warning.getType()).isEqualTo("Warning");

    // a job name no NixekJob attribute can hold is NotAJobSet, and still nothing is made
    String next = commit("{ outputs = _: { }; } # 2");
    nudge("bare", "x1");
    answer(awaitPod(repo, next), "{\"names\":[\"ok\",\"two words\"]}");
    assertThat(awaitReady("bare", "NotAJobSet").getMessage()).contains("two words");
    assertThat(client.resources(NixekJob.class).inNamespace(NS).list().getItems()).isEmpty();
  }

  @Test
  void aMissingTokenSecretAndAnUnreachableRepositoryAreConditionsNotJobs() throws Exception {
    commit("{ }");
    NixekRepository r = new NixekRepository();
    r.setMetadata(new ObjectMetaBuilder().withName("private").withNamespace(NS).build());
    r.setSpec(new NixekRepositorySpec());
    r.getSpec().url = "file://" + work;
    r.getSpec().forge = new NixekRepositoryForge();
    r.getSpec().forge.kind = "github";
    r.getSpec().pullRequests = new NixekRepositoryPullRequests();
    r.getSpec().pullRequests.enabled = false;
    r.getSpec().tokenSecretRef = new NixekSecretKeyRef("nope", "token");
    client.resources(NixekRepository.class).inNamespace(NS).resource(r).create();
    assertThat(awaitReady("private", "SecretInvalid").getMessage())
        .isEqualTo("spec.tokenSecretRef (Secret nope, key token): the Secret does not exist");

    r.setMetadata(new ObjectMetaBuilder().withName("gone").withNamespace(NS).build());
    r.getSpec().tokenSecretRef = null;
    r.getSpec().url = "file://" + dir.resolve("missing");
    client.resources(NixekRepository.class).inNamespace(NS).resource(r).create();
    assertThat(awaitReady("gone", "RepositoryUnreachable").getMessage()).contains("git ls-remote");

    r.setMetadata(new ObjectMetaBuilder().withName("prs").withNamespace(NS).build());
    r.getSpec().url = "file://" + work;
    r.getSpec().pullRequests = null;
    client.resources(NixekRepository.class).inNamespace(NS).resource(r).create();
    assertThat(awaitReady("prs", "InvalidSpec").getMessage()).contains("spec.forge.apiUrl");

    // stored before the schema refused ssh:// (the mock server has no schema): a condition and a Warning naming it
    r.setMetadata(new ObjectMetaBuilder().withName("ssh").withNamespace(NS).build());
    r.getSpec().url = "ssh://git@git.example.com/o/r.git";
    client.resources(NixekRepository.class).inNamespace(NS).resource(r).create();
    assertThat(awaitReady("ssh", "InvalidSpec").getMessage()).startsWith("spec.url: ssh:// is not supported");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events("ssh")).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("InvalidSpec");
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).startsWith("spec.url: ssh:// is not supported");
    }));
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.resources(NixekJob.class).inNamespace(NS).list().getItems()).isEmpty();
  }

  /** As the report API does: status.webhook written, read again on a conflict with the operator's status write. */
  private void nudge(String name, String delivery) {
    await().atMost(Duration.ofSeconds(10)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class)
        .until(() -> client.resources(NixekRepository.class).inNamespace(NS).withName(name).editStatus(r -> {
          r.getStatus().webhook = new NixekRepositoryWebhook();
          r.getStatus().webhook.deliveryId = delivery;
          r.getStatus().webhook.event = "push";
          return r;
        }) != null);
  }

  private void answer(Pod pod, String message) {
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).editStatus(p -> {
      p.setStatus(new PodStatusBuilder().withPhase("Succeeded").withContainerStatuses(new ContainerStatusBuilder()
          .withName("evaluate").withNewState().withNewTerminated().withExitCode(0).withMessage(message)
          .endTerminated().endState().build()).build());
      return p;
    });
  }

  private Pod awaitPod(NixekRepository repo, String commit) {
    String name = CommitEvaluations.podName(repo, commit, "ci.jobs");
    await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(NS).withName(name).get() != null);
    return client.pods().inNamespace(NS).withName(name).get();
  }

  private NixekRepository get(String name) {
    return client.resources(NixekRepository.class).inNamespace(NS).withName(name).get();
  }

  private List<NixekJob> jobsOf(String commit) {
    return client.resources(NixekJob.class).inNamespace(NS).withLabel(RepositoryJobs.COMMIT_LABEL, commit).list()
        .getItems();
  }

  private Condition awaitReady(String name, String reason) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      NixekRepository r = get(name);
      assertThat(r.getStatus()).isNotNull();
      assertThat(Conditions.find(r.getStatus().conditions, Conditions.READY).map(Condition::getReason))
          .contains(reason);
    });
    return Conditions.find(get(name).getStatus().conditions, Conditions.READY).orElseThrow();
  }

  private List<Event> events(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  private List<String> eventReasons(String name) {
    return events(name).stream().map(Event::getReason).toList();
  }
}
