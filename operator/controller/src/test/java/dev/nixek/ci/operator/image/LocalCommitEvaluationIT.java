package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryPullRequests;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.evaluation.LocalCommitEvaluations;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.repository.ForgeClient;
import dev.nixek.ci.operator.repository.NixekRepositoryReconciler;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import dev.nixek.ci.operator.testing.GitRepos;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Commit evaluations where pods cannot run (the demo's embedded API server): the repository reconciler with
 * {@link LocalCommitEvaluations} on the real API server runs the builder jar's real {@code job-names} with real nix as
 * a local process — no pod is made, though this tier's test kubelet would run one — and makes the commit's jobs; a
 * commit whose flake does not evaluate gets CommitEvaluationFailed with nix's message. Each run's private directory is
 * gone once it ended.
 */
class LocalCommitEvaluationIT extends RealApiServerTier {
  private Operator repositories;

  @AfterEach
  void stopRepositories() {
    if (repositories != null) {
      repositories.stop();
    }
  }

  @Test
  void aCommitsJobsAreEvaluatedByALocalProcessAndABrokenFlakeIsNamed() throws Exception {
    Path repo = Files.createDirectories(work.resolve("app"));
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs = { hello = { steps = [ { name = "
        + "\"greet\"; run = \"echo hi\"; } ]; }; fails = { }: { steps = [ ]; }; }; }; }\n");
    String first = GitRepos.commitAll(repo);
    git(repo, "branch", "-M", "main");
    Path evaluations = work.resolve("commit-evaluations");
    OperatorConfig config = OperatorConfig.fromEnv(env.operatorEnv(ns, Map.of(
        "NIXEK_REPOSITORY_ALLOW_FILE_URLS", "true", "NIXEK_EVAL_TIMEOUT_SECONDS", "120")));
    repositories = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
    Sealer sealer = new Sealer(SealKey.random());
    repositories.register(new NixekRepositoryReconciler(client, config, Clock.systemUTC(),
        new EventRecorder(client, Clock.systemUTC()), () -> sealer, new ForgeClient(),
        new LocalCommitEvaluations(config, evaluations, System.getenv())), c -> c.settingNamespaces(Set.of(ns)));
    repositories.start();
    // every pod made in the namespace while the test runs (a pod made and deleted again would not show in a list)
    List<String> pods = new CopyOnWriteArrayList<>();
    io.fabric8.kubernetes.client.Watch watch = client.pods().inNamespace(ns).watch(
        new io.fabric8.kubernetes.client.Watcher<>() {
          @Override
          public void eventReceived(Action action, io.fabric8.kubernetes.api.model.Pod pod) {
            pods.add(action + " " + pod.getMetadata().getName());
          }

          @Override
          public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {}
        });

    NixekRepository r = new NixekRepository();
    r.setMetadata(new ObjectMetaBuilder().withName("app").withNamespace(ns).build());
    r.setSpec(new NixekRepositorySpec());
    r.getSpec().url = "file://" + repo;
    r.getSpec().forge = new NixekRepositoryForge();
    r.getSpec().forge.kind = "gitea";
    r.getSpec().pullRequests = new NixekRepositoryPullRequests();
    r.getSpec().pullRequests.enabled = false;
    r.getSpec().pollInterval = "1h";
    client.resources(NixekRepository.class).inNamespace(ns).resource(r).create();

    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      Condition c = ready();
      assertThat(c).isNotNull();
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo("Synced");
    });
    assertThat(jobsOf(first)).extracting(j -> j.getMetadata().getName()).containsExactlyInAnyOrder(
        "app-" + first.substring(0, 8) + "-fails", "app-" + first.substring(0, 8) + "-hello");
    assertThat(jobsOf(first)).filteredOn(j -> j.getMetadata().getName().endsWith("-hello")).singleElement()
        .satisfies(j -> assertThat(j.getSpec().flake.url).isEqualTo("git+file://" + repo));

    // a commit whose flake does not parse: nix's message, no jobs
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs = { hello = ; }; }; }\n");
    String second = GitRepos.commitAll(repo);
    client.resources(NixekRepository.class).inNamespace(ns).withName("app").subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"webhook\":{\"deliveryId\":\"d1\","
            + "\"event\":\"push\",\"ref\":\"refs/heads/main\"}}}");
    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      Condition c = ready();
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo("CommitEvaluationFailed");
      assertThat(c.getMessage()).contains(second.substring(0, 12)).contains("syntax error");
    });
    assertThat(jobsOf(second)).isEmpty();
    watch.close();
    assertThat(pods).as("pods made").isEmpty();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      try (Stream<Path> left = Files.list(evaluations)) {
        assertThat(left).as("the runs' private directories").isEmpty();
      }
    });
  }

  private Condition ready() {
    NixekRepository r = client.resources(NixekRepository.class).inNamespace(ns).withName("app").get();
    return r == null || r.getStatus() == null ? null
        : Conditions.find(r.getStatus().conditions, Conditions.READY).orElse(null);
  }

  private List<NixekJob> jobsOf(String commit) {
    return client.resources(NixekJob.class).inNamespace(ns).withLabel(RepositoryJobs.COMMIT_LABEL, commit).list()
        .getItems();
  }

  private static void git(Path dir, String... args) throws Exception {
    Process p = new ProcessBuilder(Stream.concat(Stream.of("git"), Stream.of(args)).toList()).directory(dir.toFile())
        .redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isZero();
  }
}
