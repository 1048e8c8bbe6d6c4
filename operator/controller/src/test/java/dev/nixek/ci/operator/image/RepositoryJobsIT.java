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
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The repository reconciler on the real API server (server-side apply, the CRD's schema), with the test kubelet
 * running its commit evaluation pods — the real builder jar's job-names command and real nix over a flake in a local
 * git repository (no nixpkgs). Lives in this package for the tier's kubelet and environment; only the repository
 * reconciler runs, so the jobs it makes stay unfinished (nothing evaluates or launches them).
 */
class RepositoryJobsIT extends RealApiServerTier {
  private Operator repositories;

  @AfterEach
  void stopRepositories() {
    if (repositories != null) {
      repositories.stop();
    }
  }

  private void startRepositories() {
    OperatorConfig config = OperatorConfig.fromEnv(env.operatorEnv(ns, Map.of(
        "NIXEK_REPOSITORY_ALLOW_FILE_URLS", "true", "NIXEK_EVAL_TIMEOUT_SECONDS", "120")));
    repositories = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
    Sealer sealer = new Sealer(SealKey.random());
    repositories.register(new NixekRepositoryReconciler(client, config, Clock.systemUTC(),
        new EventRecorder(client, Clock.systemUTC()), () -> sealer, new ForgeClient()),
        c -> c.settingNamespaces(Set.of(ns)));
    repositories.start();
  }

  private static String flake(String jobs) {
    return "{ outputs = { self }: { ci.jobs = " + jobs + "; }; }\n";
  }

  @Test
  void jobsOncePerCommitSupersededCancelledOldPrunedAndABadAttributeNamed() throws Exception {
    Path repo = Files.createDirectories(work.resolve("app"));
    Files.writeString(repo.resolve("flake.nix"), flake("{ hello = { steps = [ { name = \"greet\"; run = \"echo "
        + "hi\"; } ]; }; fails = { }: { steps = [ { name = \"fail\"; run = \"exit 3\"; } ]; }; }"));
    String first = GitRepos.commitAll(repo);
    git(repo, "branch", "-M", "main");
    startRepositories();
    NixekRepository r = new NixekRepository();
    r.setMetadata(new ObjectMetaBuilder().withName("app").withNamespace(ns).build());
    r.setSpec(new NixekRepositorySpec());
    r.getSpec().url = "file://" + repo;
    r.getSpec().forge = new NixekRepositoryForge();
    r.getSpec().forge.kind = "gitea";
    r.getSpec().pullRequests = new NixekRepositoryPullRequests();
    r.getSpec().pullRequests.enabled = false;
    r.getSpec().keepCommits = 2;
    r.getSpec().pollInterval = "10s";
    client.resources(NixekRepository.class).inNamespace(ns).resource(r).create();

    awaitSynced(first);
    List<NixekJob> firstJobs = jobsOf(first);
    assertThat(firstJobs).extracting(j -> j.getMetadata().getName()).containsExactlyInAnyOrder(
        "app-" + first.substring(0, 8) + "-fails", "app-" + first.substring(0, 8) + "-hello");
    assertThat(firstJobs).allSatisfy(j -> {
      assertThat(j.getSpec().flake.url).isEqualTo("git+file://" + repo);
      assertThat(j.getSpec().source.rev).isEqualTo(first);
    });
    Map<String, String> uids = uids(firstJobs);

    // reconciles after that (a nudge, then a poll 10 s later) make nothing new
    java.time.Instant synced = java.time.Instant.parse(get().getStatus().lastPollTime);
    nudge("d1");
    await().atMost(Duration.ofSeconds(40)).until(() ->
        java.time.Instant.parse(get().getStatus().lastPollTime).isAfter(synced.plusSeconds(9)));
    assertThat(uids(jobsOf(first))).isEqualTo(uids);
    assertThat(client.resources(NixekJob.class).inNamespace(ns).list().getItems()).hasSize(2);

    // a second commit: its job, the first's unfinished jobs cancelled
    Files.writeString(repo.resolve("flake.nix"), flake("{ hello = { steps = [ { name = \"greet\"; run = \"echo "
        + "again\"; } ]; }; }"));
    String second = GitRepos.commitAll(repo);
    nudge("d2");
    awaitSynced(second);
    assertThat(jobsOf(second)).singleElement()
        .satisfies(j -> assertThat(j.getMetadata().getName()).isEqualTo("app-" + second.substring(0, 8) + "-hello"));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jobsOf(first))
        .hasSize(2).allSatisfy(j -> assertThat(j.getSpec().cancel).isTrue()));

    // a third: keepCommits 2 deletes the first commit's jobs; and the commit after it is not a set of jobs
    Files.writeString(repo.resolve("flake.nix"), flake("{ hello = { steps = [ ]; }; }"));
    String third = GitRepos.commitAll(repo);
    nudge("d3");
    awaitSynced(third);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(jobsOf(first)).isEmpty();
      assertThat(jobsOf(second)).singleElement().satisfies(j -> assertThat(j.getSpec().cancel).isTrue());
    });
    Files.writeString(repo.resolve("flake.nix"), flake("[ \"not\" \"jobs\" ]"));
    String fourth = GitRepos.commitAll(repo);
    nudge("d4");
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      Condition c = ready();
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo("NotAJobSet");
      assertThat(c.getMessage()).contains(fourth.substring(0, 12)).contains("ci.jobs is a list");
      assertThat(c.getObservedGeneration()).isEqualTo(get().getMetadata().getGeneration());
    });
    assertThat(jobsOf(fourth)).isEmpty();
    assertThat(Conditions.find(get().getStatus().conditions, "Stalled").orElseThrow().getStatus()).isEqualTo("True");
  }

  /** The API server refuses bad values at the door, naming the field; nothing is stored. */
  @Test
  void badSpecsAreRefusedByTheSchema() {
    java.util.function.BiConsumer<java.util.function.Consumer<NixekRepositorySpec>, String> refused = (edit, says) -> {
      NixekRepository r = new NixekRepository();
      r.setMetadata(new ObjectMetaBuilder().withName("bad").withNamespace(ns).build());
      r.setSpec(new NixekRepositorySpec());
      r.getSpec().url = "https://git.example.com/o/r.git";
      r.getSpec().forge = new NixekRepositoryForge();
      r.getSpec().forge.kind = "gitea";
      edit.accept(r.getSpec());
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.resources(NixekRepository.class)
          .inNamespace(ns).resource(r).create())
          .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
          .satisfies(e -> assertThat(((io.fabric8.kubernetes.client.KubernetesClientException) e).getCode())
              .isEqualTo(422))
          .hasMessageContaining(says);
      assertThat(client.resources(NixekRepository.class).inNamespace(ns).withName("bad").get()).isNull();
    };
    refused.accept(s -> s.url = "ext::sh -c touch% /tmp/x", "spec.url");
    refused.accept(s -> s.url = "git@github.com:o/r.git", "spec.url");
    refused.accept(s -> s.url = "ssh://-oProxyCommand=x/o/r", "spec.url");
    refused.accept(s -> s.url = "ssh://git@git.example.com/o/r.git", "spec.url: ssh:// is not supported");
    refused.accept(s -> s.forge.kind = "gitlab", "spec.forge.kind");
    refused.accept(s -> s.forge = null, "spec.forge");
    refused.accept(s -> s.attribute = "ci..jobs", "spec.attribute");
    refused.accept(s -> s.pollInterval = "5s", "spec.pollInterval must be between 10s and 24h");
    refused.accept(s -> s.pollInterval = "48h", "spec.pollInterval must be between 10s and 24h");
    refused.accept(s -> s.pollInterval = "soon", "spec.pollInterval");
    refused.accept(s -> s.keepCommits = 0, "spec.keepCommits");
    refused.accept(s -> s.branches = List.of("-x"), "spec.branches");
    refused.accept(s -> s.tokenSecretRef = new dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef("Bad_Name", "k"),
        "spec.tokenSecretRef.name");
  }

  private void awaitSynced(String commit) {
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      // one read for both: a condition and heads from two reads may be of two different writes
      NixekRepository r = get();
      Condition c = Conditions.find(r.getStatus().conditions, Conditions.READY).orElseThrow();
      assertThat(c.getReason()).as(c.getMessage()).isEqualTo("Synced");
      assertThat(r.getStatus().heads).singleElement().satisfies(h -> assertThat(h.commit).isEqualTo(commit));
    });
  }

  private void nudge(String delivery) {
    client.resources(NixekRepository.class).inNamespace(ns).withName("app").subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"webhook\":{\"deliveryId\":\"" + delivery
            + "\",\"event\":\"push\",\"ref\":\"refs/heads/main\"}}}");
  }

  private NixekRepository get() {
    return client.resources(NixekRepository.class).inNamespace(ns).withName("app").get();
  }

  private Condition ready() {
    NixekRepository r = get();
    return r == null || r.getStatus() == null ? null
        : Conditions.find(r.getStatus().conditions, Conditions.READY).orElse(null);
  }

  private List<NixekJob> jobsOf(String commit) {
    return client.resources(NixekJob.class).inNamespace(ns).withLabel(RepositoryJobs.COMMIT_LABEL, commit).list()
        .getItems();
  }

  private static Map<String, String> uids(List<NixekJob> jobs) {
    return jobs.stream().collect(Collectors.toMap(j -> j.getMetadata().getName(), j -> j.getMetadata().getUid()));
  }

  private static void git(Path dir, String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of("git"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isZero();
  }
}
