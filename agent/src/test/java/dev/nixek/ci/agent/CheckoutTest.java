package dev.nixek.ci.agent;

import dev.nixek.ci.testing.kube.GitHttpServer;
import static dev.nixek.ci.agent.GitRepos.git;
import static dev.nixek.ci.agent.TestJobs.config;
import static dev.nixek.ci.agent.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.protocol.AgentSource;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.CheckoutCredential;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkout step with real git against real repositories: file:// and smart HTTP ({@code git http-backend}
 * demanding the repository's token), an exact commit that is not the branch tip, shallow, submodules on and off, and
 * the credential only where git needs it.
 */
class CheckoutTest {
  private static final String TOKEN = "forge-token-0123456789abcdef";
  private static final String BASIC = "Basic " + Base64.getEncoder().encodeToString(
      ("x-access-token:" + TOKEN).getBytes(StandardCharsets.UTF_8));

  @TempDir
  Path dir;
  @TempDir
  Path repos;
  String token;
  FakeReportApi api;
  List<String> commits;

  @BeforeEach
  void setUp() throws Exception {
    token = TestJobs.token();
    api = new FakeReportApi(token, TestJobs.NAMESPACE, TestJobs.NAME);
    commits = GitRepos.bare(repos, "project", "version.txt", "one\n", "two\n", "three\n");
  }

  @AfterEach
  void tearDown() {
    api.close();
  }

  private int runJob(AgentStep... steps) throws Exception {
    return TestJobs.start(dir, config(api.url(), token, steps)).get(120, TimeUnit.SECONDS);
  }

  private static AgentStep checkout(String url, String rev, boolean submodules) {
    return AgentStep.checkout("checkout", new AgentSource(url, rev, submodules ? true : null), null);
  }

  private Path work() {
    return dir.resolve("work");
  }

  @Test
  void checksOutExactlyTheCommitShallowlyOverFileAndTheNextStepSeesIt() throws Exception {
    String middle = commits.get(1);
    int exit = runJob(checkout("file://" + repos.resolve("project.git"), middle, false),
        run("build", "cat version.txt; git rev-parse HEAD; git rev-list --count HEAD"));

    assertThat(exit).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.started(0).name()).isEqualTo("checkout");
    assertThat(api.finished(0).exitCode()).isZero();
    assertThat(api.output(0)).contains("$ git init -q .", "$ git fetch --depth 1 --no-tags origin " + middle,
        "$ git checkout -q --detach " + middle, "HEAD is now " + middle);
    // the commit, not the tip; one commit deep (shallow)
    assertThat(api.output(1)).isEqualTo("two\n" + middle + "\n1\n");
    // no credential is asked for a file:// clone
    assertThat(api.secretFetches()).isZero();
    // the spool the agent keeps in the work dir is not part of the checkout
    assertThat(git(work(), "status", "--porcelain")).isEmpty();
  }

  @Test
  void submodulesAreCheckedOutOnlyWhenAsked() throws Exception {
    GitRepos.bare(repos, "library", "lib.txt", "library v1\n");
    String withSub = GitRepos.addSubmodule(repos, "project", "file://" + repos.resolve("library.git"), "lib");
    String url = "file://" + repos.resolve("project.git");

    assertThat(runJob(checkout(url, withSub, false), run("list", "ls lib | wc -l"))).isZero();
    assertThat(api.output(1).trim()).isEqualTo("0");
    assertThat(api.output(0)).doesNotContain("git submodule");

    api.close();
    api = new FakeReportApi(token, TestJobs.NAMESPACE, TestJobs.NAME);
    Path second = dir.resolve("second");
    Files.createDirectories(second);
    int exit = TestJobs.start(second, config(api.url(), token, checkout(url, withSub, true),
        run("read", "cat lib/lib.txt; git -C lib rev-list --count HEAD"))).get(120, TimeUnit.SECONDS);
    assertThat(exit).isZero();
    assertThat(api.output(0)).contains("$ git submodule update --init --recursive --depth 1");
    assertThat(api.output(1)).isEqualTo("library v1\n1\n");
  }

  @Test
  void aPrivateRepositoryOverHttpIsClonedWithTheCredentialThatAppearsNowhereElse() throws Exception {
    try (GitHttpServer forge = new GitHttpServer(repos, BASIC)) {
      // the report API is briefly unavailable: the credential fetch is retried
      api.serveSecrets(Map.of(CheckoutCredential.SECRET_REF, TOKEN.getBytes(StandardCharsets.UTF_8)), 2);
      Set<String> before = checkoutDirs();
      String middle = commits.get(1);
      int exit = runJob(checkout(forge.url("project.git"), middle, false),
          run("inspect", "cat version.txt; env; cat .git/config; ls -la ~ 2>/dev/null; true"));

      assertThat(exit).isZero();
      assertThat(api.violations()).isEmpty();
      assertThat(api.secretFetches()).isEqualTo(3);
      assertThat(api.output(1)).startsWith("two\n");
      assertThat(forge.requests()).isNotEmpty().allMatch(r -> BASIC.equals(r.authorization()));
      // the token, and the header value it travels in, are in no step's output, no file of the work dir, and the
      // agent's private git config is gone
      String b64 = BASIC.substring("Basic ".length());
      for (int i = 0; i < 2; i++) {
        assertThat(api.output(i)).doesNotContain(TOKEN).doesNotContain(b64);
      }
      assertThat(filesContaining(work(), TOKEN, b64)).isEmpty();
      assertThat(checkoutDirs()).isEqualTo(before);
    }
  }

  @Test
  void theNextStepStartsOnlyOnceTheReportApiAppliedTheCheckoutsEndAndTheJobsStepsGetNoCheckoutToken()
      throws Exception {
    try (GitHttpServer forge = new GitHttpServer(repos, BASIC)) {
      // a report API still serving the token (as one would before it has applied the checkout's end)
      api.serveSecrets(Map.of(CheckoutCredential.SECRET_REF, TOKEN.getBytes(StandardCharsets.UTF_8),
          "deploy/token", "deploy-value-0123456789".getBytes(StandardCharsets.UTF_8)), 0);
      // the checkout's end is delivered late: three 503s first
      for (int i = 0; i < 3; i++) {
        api.inject(a -> a.step() == 0 && "finished".equals(a.kind()), FakeReportApi.Fault.FAIL_503);
      }
      int exit = runJob(checkout(forge.url("project.git"), commits.get(1), false),
          new AgentStep("use", "test \"$DEPLOY_TOKEN\" = deploy-value-0123456789 && echo got-it", null, null, null,
              List.of(new dev.nixek.ci.protocol.StepSecret("DEPLOY_TOKEN", "deploy/token", "env"))));

      assertThat(exit).isZero();
      assertThat(api.violations()).isEmpty();
      assertThat(api.output(1)).isEqualTo("got-it\n");
      List<FakeReportApi.Arrival> fetches = api.arrivals().stream()
          .filter(a -> dev.nixek.ci.protocol.ReportPaths.SECRETS.equals(a.kind())).toList();
      assertThat(fetches).as("the checkout's fetch, then the job's step's").hasSize(2);
      assertThat(api.arrivals()).filteredOn(a -> a.step() == 0 && "finished".equals(a.kind()))
          .extracting(FakeReportApi.Arrival::status).containsExactly(503, 503, 503, 200);
      // the job's own step asked for its secrets (just before it ran) only after the checkout's end was applied
      assertThat(fetches.get(1).nanos()).isGreaterThan(api.finishedArrival(0));
    }
  }

  @Test
  void theJobsSecretsNeverHoldTheCheckoutToken() throws Exception {
    api.serveSecrets(Map.of(CheckoutCredential.SECRET_REF, TOKEN.getBytes(StandardCharsets.UTF_8),
        "deploy/token", "deploy-value-0123456789".getBytes(StandardCharsets.UTF_8)), 0);
    var secrets = new ReportApiSecrets(new ReportClient(api.url(), token, java.time.Duration.ofSeconds(5)),
        TestJobs.NAMESPACE, TestJobs.NAME, () -> new Backoff(java.time.Duration.ofMillis(10),
            java.time.Duration.ofMillis(100)));
    assertThat(secrets.fetch()).containsOnlyKeys("deploy/token");
  }

  @Test
  void withoutTheCredentialThePrivateCloneFailsAndLaterStepsDoNotRun() throws Exception {
    try (GitHttpServer forge = new GitHttpServer(repos, BASIC)) {
      api.serveSecrets(Map.of(), 0); // the job has no checkout token
      int exit = runJob(checkout(forge.url("project.git"), commits.get(0), false), run("never", "touch ran"));

      assertThat(exit).isEqualTo(1);
      assertThat(api.finished(0).exitCode()).isNotZero();
      assertThat(api.output(0)).contains("$ git fetch --depth 1");
      assertThat(api.stepCount()).isEqualTo(1);
      assertThat(work().resolve("ran")).doesNotExist();
      // it tried without credentials, and never prompted
      assertThat(forge.requests()).isNotEmpty().allMatch(r -> r.authorization() == null);
    }
  }

  @Test
  void aCommitTheRepositoryDoesNotHaveFailsTheCheckout() throws Exception {
    String absent = "0123456789abcdef0123456789abcdef01234567";
    int exit = runJob(checkout("file://" + repos.resolve("project.git"), absent, false), run("never", "true"));

    assertThat(exit).isEqualTo(1);
    assertThat(api.finished(0).exitCode()).isNotZero();
    assertThat(api.output(0)).contains("$ git fetch --depth 1 --no-tags origin " + absent);
    assertThat(api.stepCount()).isEqualTo(1);
  }

  @Test
  void theCredentialGoesOnlyToTheRepositorysHostAndOnlyOverHttpsOrToThisMachine() {
    String config = Checkout.gitConfig("https://git.example.com/org/repo.git",
        Optional.of(new CheckoutCredential(null, TOKEN)));
    assertThat(config).contains("[http \"https://git.example.com/\"]\n\textraHeader = " + "Authorization: " + BASIC);
    assertThat(config).doesNotContain("[http]");
    assertThat(Checkout.gitConfig("https://git.example.com/org/repo.git", Optional.empty())).doesNotContain(TOKEN)
        .doesNotContain("extraHeader");
    assertThat(Checkout.sendsCredential("https://git.example.com/r")).isTrue();
    assertThat(Checkout.sendsCredential("http://127.0.0.1:3000/r")).isTrue();
    assertThat(Checkout.sendsCredential("http://git.example.com/r")).isFalse();
    assertThat(Checkout.sendsCredential("git://git.example.com/r")).isFalse();
    assertThat(Checkout.sendsCredential("file:///srv/r")).isFalse();
  }

  @Test
  void aCheckoutStepThatIsNotFirstOrCarriesCredentialsIsAConfigError() throws Exception {
    String url = "file://" + repos.resolve("project.git");
    assertThat(runJob(run("first", "true"), checkout(url, commits.get(0), false))).isEqualTo(2);
    assertThat(runJob(checkout("https://user:secret@git.example.com/r", commits.get(0), false))).isEqualTo(2);
    assertThat(runJob(checkout(url, "main", false))).isEqualTo(2);
    assertThat(api.arrivals()).isEmpty();
    assertThat(api.secretFetches()).isZero();
  }

  private static Set<String> checkoutDirs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("nixek-checkout-"))
          .collect(Collectors.toSet());
    }
  }

  private static List<Path> filesContaining(Path root, String... needles) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).filter(p -> {
        try {
          String text = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
          return Stream.of(needles).anyMatch(text::contains);
        } catch (IOException e) {
          return false;
        }
      }).toList();
    }
  }
}
