package dev.nixek.ci.operator.forge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import dev.nixek.ci.operator.repository.CommitEvaluations;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Commit statuses on a real kube-apiserver, against a real HTTP forge (Gitea's status API shape): a repository's
 * job gets {@code pending}, its record in {@code status.forgeStatus}; a job that ends while no operator runs and the
 * forge is down gets its final status from the next operator once the forge is back; the token is in no status and
 * no Event. Who else gets the repository's token: a job's checkout, and a job's evaluation pod (its flake at the
 * repository's own https, or loopback http, URL), only for the repository's own jobs and never a fork's.
 */
@ExtendWith(KubeApiServerExtension.class)
class ForgeStatusControllerIT {
  private static final String SHA = ForgeStatusApiTest.SHA;
  private static final String TOKEN = "gitea-token-5ecr3t-0123456789";

  private KubernetesClient client;
  private String ns;
  private FakeForge forge;
  private ForgeStatusController controller;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    Path home = Path.of(System.getProperty("nixek.home", "../.."));
    try (Stream<Path> crds = Files.list(home.resolve("charts/nixek-ci/crds"))) {
      server.applyServerSide(crds.sorted().toArray(Path[]::new));
    }
    for (String crd : List.of("nixekjobs", "nixekrepositories")) {
      server.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/" + crd + ".ci.nixek.dev")
          .orThrow();
    }
  }

  @BeforeEach
  void start(KubeApiServer server, TestNamespace namespace) throws Exception {
    client = server.client();
    ns = namespace.name();
    forge = new FakeForge();
  }

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
    forge.close();
  }

  private ForgeStatusController controller() {
    ForgeStatusController c = new ForgeStatusController(client, List.of(ns),
        new ForgeStatusApi(Duration.ofSeconds(2)), Duration.ofMillis(50), Duration.ofMillis(500));
    c.start();
    return c;
  }

  private NixekRepository repository() {
    return repository("hello", "http://127.0.0.1:3000/org/hello.git");
  }

  private NixekRepository repository(String name, String url) {
    if (client.secrets().inNamespace(ns).withName("forge-token").get() == null) {
      client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("forge-token")
          .endMetadata().addToData("token", Base64.getEncoder().encodeToString(TOKEN.getBytes())).build()).create();
    }
    NixekRepository repo = new NixekRepository();
    repo.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    repo.setSpec(new NixekRepositorySpec());
    repo.getSpec().url = url;
    repo.getSpec().forge = new NixekRepositoryForge();
    repo.getSpec().forge.kind = NixekRepositoryForge.GITEA;
    repo.getSpec().forge.apiUrl = forge.url("/api/v1");
    repo.getSpec().tokenSecretRef = new NixekSecretKeyRef("forge-token", "token");
    return client.resources(NixekRepository.class).inNamespace(ns).resource(repo).create();
  }

  private NixekJob job(NixekRepository repo, String name, String flakeJob) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
        .addToLabels(RepositoryJobs.REPOSITORY_LABEL, repo.getMetadata().getName())
        .addToLabels(RepositoryJobs.COMMIT_LABEL, SHA)
        .addToAnnotations(RepositoryJobs.COMMIT_ANNOTATION, SHA)
        .addToAnnotations(RepositoryJobs.JOB_ANNOTATION, flakeJob)
        .withOwnerReferences(Owners.controller(repo)).build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+" + repo.getSpec().url;
    job.getSpec().flake.rev = SHA;
    job.getSpec().flake.attribute = "ci.jobs." + flakeJob;
    job.getSpec().source = new NixekJobSource(repo.getSpec().url, SHA);
    return client.resources(NixekJob.class).inNamespace(ns).resource(job).create();
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  /** Ends the job as the operator and the report API would have written it: build failed with exit code 2. */
  private void failBuild(String name) {
    NixekJob job = get(name);
    NixekJobStatus status = job.getStatus() == null ? new NixekJobStatus() : job.getStatus();
    status.conditions = Conditions.with(status.conditions, Conditions.SUCCEEDED, ConditionReason.StepFailed,
        "step 'build' failed with exit code 2", 1L, Instant.now());
    NixekStepStatus checkout = new NixekStepStatus();
    checkout.name = "checkout";
    checkout.state = NixekStepStatus.State.Succeeded;
    checkout.exitCode = 0;
    NixekStepStatus build = new NixekStepStatus();
    build.name = "build";
    build.state = NixekStepStatus.State.Failed;
    build.exitCode = 2;
    status.steps = List.of(checkout, build);
    job.setStatus(status);
    client.resources(NixekJob.class).inNamespace(ns).resource(job).updateStatus();
  }

  @Test
  void pendingThenTheFinalStatusFromTheNextOperatorOnceTheForgeIsBack() {
    NixekRepository repo = repository();
    job(repo, "hello-6dcb09b-build", "build");
    controller = controller();

    await().atMost(Duration.ofSeconds(30)).until(() -> get("hello-6dcb09b-build").getStatus() != null
        && get("hello-6dcb09b-build").getStatus().forgeStatus != null);
    var pending = forge.accepted().get(0);
    assertThat(pending.path()).isEqualTo("/api/v1/repos/org/hello/statuses/" + SHA);
    assertThat(pending.header("Authorization")).isEqualTo("token " + TOKEN);
    assertThat(pending.body().get("state").asText()).isEqualTo("pending");
    assertThat(pending.body().get("context").asText()).isEqualTo("nixek-ci/build");
    assertThat(get("hello-6dcb09b-build").getStatus().forgeStatus.state).isEqualTo("pending");

    // the operator stops; the job ends meanwhile; the forge is down when the next operator starts
    controller.close();
    failBuild("hello-6dcb09b-build");
    forge.failWith(503, Map.of());
    controller = controller();
    await().atMost(Duration.ofSeconds(30)).until(() -> forge.requests().size() >= 4);
    assertThat(get("hello-6dcb09b-build").getStatus().forgeStatus.state).isEqualTo("pending");

    forge.recover();
    await().atMost(Duration.ofSeconds(30)).until(() -> "failure".equals(
        get("hello-6dcb09b-build").getStatus().forgeStatus.state));
    var forgeStatus = get("hello-6dcb09b-build").getStatus().forgeStatus;
    assertThat(forgeStatus.description).isEqualTo("step 'build' failed with exit code 2");
    assertThat(forgeStatus.context).isEqualTo("nixek-ci/build");
    assertThat(forgeStatus.postedAt).isNotBlank();
    assertThat(forge.accepted()).extracting(r -> r.body().get("state").asText()).containsExactly("pending", "failure");
    // the record stops further posts: a resync or another event posts nothing more
    int posts = forge.requests().size();
    client.resources(NixekJob.class).inNamespace(ns).withName("hello-6dcb09b-build")
        .edit(j -> {
          j.getMetadata().getAnnotations().put("touch", "1");
          return j;
        });
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
        .until(() -> forge.requests().size() == posts);

    // the token is in no job status and no Event of the namespace
    String statuses = Serialization.asJson(client.resources(NixekJob.class).inNamespace(ns).list());
    assertThat(statuses).doesNotContain(TOKEN).doesNotContain(Base64.getEncoder().encodeToString(TOKEN.getBytes()));
    assertThat(Serialization.asJson(client.v1().events().inNamespace(ns).list())).doesNotContain(TOKEN);
  }

  @Test
  void aJobWhoseOwnerIsNotTheRepositoryGetsNoStatus() {
    NixekRepository repo = repository();
    NixekJob forged = job(repo, "hello-6dcb09b-forged", "forged");
    // a label and a controller reference that names the repository but another uid: not the repository's job
    forged.getMetadata().getOwnerReferences().get(0).setUid("00000000-0000-0000-0000-000000000000");
    client.resources(NixekJob.class).inNamespace(ns).resource(forged).update();
    job(repo, "hello-6dcb09b-real", "real");
    controller = controller();

    await().atMost(Duration.ofSeconds(30)).until(() -> get("hello-6dcb09b-real").getStatus() != null
        && get("hello-6dcb09b-real").getStatus().forgeStatus != null);
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> controller.backlog() == 0);
    assertThat(forge.accepted()).extracting(r -> r.body().get("context").asText()).containsExactly("nixek-ci/real");
    NixekJob f = get("hello-6dcb09b-forged");
    assertThat(f.getStatus() == null || f.getStatus().forgeStatus == null).isTrue();
  }

  @Test
  void theCheckoutTokenGoesOnlyToTheRepositorysOwnJobsForItsOwnUrlAndNotToForks() {
    NixekRepository repo = repository();
    CheckoutCredentials credentials = CheckoutCredentials.fromRepositories(client);

    NixekJob own = job(repo, "hello-6dcb09b-own", "own");
    assertThat(credentials.tokenFor(own)).hasValueSatisfying(t -> assertThat(new String(t)).isEqualTo(TOKEN));

    NixekJob otherUid = job(repo, "hello-6dcb09b-uid", "uid");
    otherUid.getMetadata().getOwnerReferences().get(0).setUid("00000000-0000-0000-0000-000000000000");
    assertThat(credentials.tokenFor(otherUid)).isEmpty();

    NixekJob fork = job(repo, "hello-6dcb09b-fork", "fork");
    fork.getMetadata().getLabels().put(RepositoryJobs.FORK_LABEL, "true");
    assertThat(credentials.tokenFor(fork)).isEmpty();

    NixekJob elsewhere = job(repo, "hello-6dcb09b-elsewhere", "elsewhere");
    elsewhere.getSpec().source = new NixekJobSource("https://attacker.example.com/org/hello.git", SHA);
    assertThat(credentials.tokenFor(elsewhere)).isEmpty();

    NixekJob noSource = job(repo, "hello-6dcb09b-nosource", "nosource");
    noSource.getSpec().source = null;
    assertThat(credentials.tokenFor(noSource)).isEmpty();

    client.secrets().inNamespace(ns).withName("forge-token").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> credentials.tokenFor(own).isEmpty());
  }

  @Test
  void theEvaluationTokenGoesOnlyToTheRepositorysOwnFlakeJobsAtItsUrlOverHttpsOrLoopbackAndNotToForks() {
    RepositoryTokens tokens = new RepositoryTokens(client);
    NixekRepository repo = repository();

    NixekJob own = job(repo, "hello-6dcb09b-own", "own");
    assertThat(tokens.forEvaluation(own)).as("the repository's own job, its URL, http to loopback").hasValue(TOKEN);

    NixekJob users = job(repo, "hello-6dcb09b-users", "users");
    users.getMetadata().setOwnerReferences(null);
    assertThat(tokens.forEvaluation(users)).as("a user's own job naming the same URL").isEmpty();

    NixekJob otherUid = job(repo, "hello-6dcb09b-uid", "uid");
    otherUid.getMetadata().getOwnerReferences().get(0).setUid("00000000-0000-0000-0000-000000000000");
    assertThat(tokens.forEvaluation(otherUid)).as("an owner reference to another uid").isEmpty();

    NixekJob fork = job(repo, "hello-6dcb09b-fork", "fork");
    fork.getMetadata().getLabels().put(RepositoryJobs.FORK_LABEL, "true");
    assertThat(tokens.forEvaluation(fork)).as("a fork's pull request").isEmpty();

    NixekJob elsewhere = job(repo, "hello-6dcb09b-elsewhere", "elsewhere");
    elsewhere.getSpec().flake.url = "git+https://attacker.example.com/org/hello.git";
    assertThat(tokens.forEvaluation(elsewhere)).as("another URL").isEmpty();

    NixekJob notGit = job(repo, "hello-6dcb09b-tarball", "tarball");
    notGit.getSpec().flake.url = repo.getSpec().url;
    assertThat(tokens.forEvaluation(notGit)).as("not a git+ flake").isEmpty();

    NixekJob inline = job(repo, "hello-6dcb09b-inline", "inline");
    inline.getSpec().flake = null;
    inline.getSpec().nix = "{ steps = [ ]; }";
    assertThat(tokens.forEvaluation(inline)).as("a job written inline").isEmpty();

    NixekRepository plain = repository("plain", "http://git.example.com/org/plain.git");
    NixekJob overHttp = job(plain, "plain-6dcb09b-own", "own");
    assertThat(tokens.forEvaluation(overHttp)).as("plain http to another host").isEmpty();
    assertThat(CheckoutCredentials.fromRepositories(client).tokenFor(overHttp))
        .as("the checkout's test is the same (the agent refuses plain http to another host itself)").isPresent();

    NixekRepository secure = repository("secure", "https://git.example.com/org/secure.git");
    assertThat(tokens.forEvaluation(job(secure, "secure-6dcb09b-own", "own"))).hasValue(TOKEN);

    client.secrets().inNamespace(ns).withName("forge-token").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> tokens.forEvaluation(own).isEmpty());
  }

  @Test
  void theCommitEvaluationGetsTheTokenItsReconcileReadExceptForAForkOrPlainHttpToAnotherHost() {
    NixekRepository repo = new NixekRepository();
    repo.setSpec(new NixekRepositorySpec());
    repo.getSpec().url = "https://git.example.com/org/app.git";
    assertThat(CommitEvaluations.forgeToken(repo, TOKEN, false)).hasValue(TOKEN);
    assertThat(CommitEvaluations.forgeToken(repo, TOKEN, true)).as("a fork's pull request").isEmpty();
    assertThat(CommitEvaluations.forgeToken(repo, null, false)).as("no tokenSecretRef").isEmpty();
    repo.getSpec().url = "http://127.0.0.1:3000/org/app.git";
    assertThat(CommitEvaluations.forgeToken(repo, TOKEN, false)).hasValue(TOKEN);
    repo.getSpec().url = "http://git.example.com/org/app.git";
    assertThat(CommitEvaluations.forgeToken(repo, TOKEN, false)).isEmpty();
    repo.getSpec().url = "file:///srv/git/app.git";
    assertThat(CommitEvaluations.forgeToken(repo, TOKEN, false)).isEmpty();
  }
}
