package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code nixek-builder evaluate} with real nix (the image's version, hack/nix-version) and the stub nixpkgs of nix/tests: the seed job
 * of docs/evaluation.md#the-seed-job and the prototype's flake shape evaluate and are posted as they are; every broken job of
 * nix/tests/broken fails with its expected message (position included) and posts nothing; the report API's answers
 * are handled (retry on 503, refusal on 4xx); the token appears nowhere but in the Authorization header.
 */
class EvaluateIT {
  static final Path REPO = Path.of("../..").toAbsolutePath().normalize();
  static final Path NIX = REPO.resolve("nix");
  static final Path STUB = NIX.resolve("tests/stub-nixpkgs");
  static final String TOKEN = "nxkev_" + "t0k3nT0k3nt0k3nT0k3nt0k3nT0k3nt0k3nT0k3nAB";
  /** A stand-in for the image's agent jar: nix only hashes it into the machine, it never runs here. */
  static final Path AGENT_JAR = standInAgentJar();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private Path tokenFile;

  @BeforeEach
  void token() throws IOException {
    RequiredTools.nix();
    tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
  }

  private int evaluate(FakeReportApi api, String... args) {
    List<String> all = new ArrayList<>(List.of("evaluate", "--nix-dir", NIX.toString(), "--report-url", api.url(),
        "--job", "ci/hello", "--token-file", tokenFile.toString(), "--termination-log",
        dir.resolve("termination-log").toString(), "--report-timeout-seconds", "3"));
    all.addAll(List.of(args));
    if (!all.contains("--agent-jar")) {
      all.addAll(List.of("--agent-jar", AGENT_JAR.toString()));
    }
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("NIX_CONFIG", "substituters =");
    return new Main(env, new PrintStream(out, true, StandardCharsets.UTF_8)).run(all.toArray(String[]::new));
  }

  private JsonNode terminationMessage() throws IOException {
    byte[] bytes = Files.readAllBytes(dir.resolve("termination-log"));
    assertThat(bytes.length).isLessThanOrEqualTo(TerminationMessage.MAX_BYTES);
    return JSON.readTree(bytes);
  }

  private String log() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theSeedJobEvaluatesToItsTwoStepsAndMachineAndIsPosted() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--nixpkgs",
          STUB.toString());

      assertThat(exit).as(log()).isZero();
      assertThat(api.received()).hasSize(1);
      FakeReportApi.Received r = api.received().get(0);
      assertThat(r.method()).isEqualTo("POST");
      assertThat(r.path()).isEqualTo("/v1/jobs/ci/hello/evaluation");
      assertThat(r.contentType()).isEqualTo("application/json");
      assertThat(r.authorization()).isEqualTo("Bearer " + TOKEN);
      JsonNode posted = JSON.readTree(r.body());
      assertThat(posted.get("steps").toString()).isEqualTo(
          "[{\"name\":\"build\",\"run\":\"cargo build --release\"},{\"name\":\"test\",\"run\":\"cargo test\"}]");
      assertThat(posted.get("machine").get("system").asText()).isEqualTo("x86_64-linux");
      assertThat(posted.get("machine").get("drvPath").asText()).isEqualTo(instantiate(
          "--argstr", "jobFile", NIX.resolve("tests/jobs/seed.nix").toString()));
      JsonNode message = terminationMessage();
      assertThat(message.get("result").asText()).isEqualTo("applied");
      assertThat(message.get("steps").asInt()).isEqualTo(2);
      assertThat(message.get("drvPath").asText()).isEqualTo(posted.get("machine").get("drvPath").asText());
      // provenance: the Nix that evaluated, the image's (RequiredTools.nix() checked PATH has it)
      assertThat(posted.get("nixVersion").asText()).isEqualTo(dev.nixek.ci.testing.kube.NixVersion.pinned());
      assertThat(message.get("nixVersion").asText()).isEqualTo(dev.nixek.ci.testing.kube.NixVersion.pinned());
      assertThat(log()).doesNotContain(TOKEN.substring(6));
    }
  }

  @Test
  void withNoMachineTheSeedJobEvaluatesWithoutNixpkgsAndSaysItsMachineWasSkipped() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--no-machine");

      assertThat(exit).as(log()).isZero();
      JsonNode posted = JSON.readTree(api.received().get(0).body());
      assertThat(posted.get("steps")).hasSize(2);
      assertThat(posted.get("machine").isNull()).isTrue();
      assertThat(posted.get("machineSkipped").asBoolean()).isTrue();
      assertThat(terminationMessage().get("drvPath").isNull()).isTrue();
    }
  }

  @Test
  void thePrototypesFlakeJobFromAGitRepositoryAtAPinnedRevEvaluates() throws Exception {
    Path repo = dir.resolve("repo");
    Files.createDirectories(repo);
    Files.writeString(repo.resolve("flake.nix"), """
        {
          outputs = { self }: {
            ci.jobs.hello = { }: {
              machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; };
              steps = [
                { name = "greet"; command = [ "echo" "hello" "from" "a" "flake" ]; }
                { name = "env"; command = [ "sh" "-c" "echo $GREETING" ]; env = { GREETING = "hi"; }; timeoutSeconds = 30; }
              ];
            };
          };
        }
        """);
    String rev = commit(repo);
    // a later commit changes the job: the pinned rev still gives the first one
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs.hello = throw \"later\"; }; }");
    commit(repo);
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--flake", "git+file://" + repo + "?rev=" + rev, "--attribute", "ci.jobs.hello",
          "--nixpkgs", STUB.toString());

      assertThat(exit).as(log()).isZero();
      JsonNode posted = JSON.readTree(api.received().get(0).body());
      assertThat(posted.get("steps").toString()).isEqualTo("[{\"command\":[\"echo\",\"hello\",\"from\",\"a\","
          + "\"flake\"],\"name\":\"greet\"},{\"command\":[\"sh\",\"-c\",\"echo $GREETING\"],\"env\":{\"GREETING\":\"hi\"},"
          + "\"name\":\"env\",\"timeoutSeconds\":30}]");
      // the seed's machine, from a flake: the same drvPath as the seed job's (one image for both)
      assertThat(posted.get("machine").get("drvPath").asText()).isEqualTo(instantiate(
          "--argstr", "jobFile", NIX.resolve("tests/jobs/seed.nix").toString()));
    }
  }

  @Test
  void aMissingFlakeAttributeIsNamed() throws Exception {
    Path repo = dir.resolve("repo");
    Files.createDirectories(repo);
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs.other = { steps = [ ]; }; }; }");
    String rev = commit(repo);
    try (FakeReportApi api = new FakeReportApi()) {
      assertThat(evaluate(api, "--flake", "git+file://" + repo + "?rev=" + rev, "--attribute", "ci.jobs.hello"))
          .isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText()).isEqualTo("nixek: flake has no attribute 'ci.jobs.hello'");
      assertThat(api.received()).isEmpty();
    }
  }

  static Stream<Object[]> brokenJobs() throws IOException {
    try (Stream<Path> files = Files.list(NIX.resolve("tests/broken"))) {
      return files.filter(f -> f.toString().endsWith(".nix")).sorted().map(f -> {
        try {
          String first = Files.readAllLines(f).get(0);
          assertThat(first).as("%s starts with its expected message", f).startsWith("# expect: ");
          return new Object[] {f.getFileName().toString(), first.substring("# expect: ".length())};
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenJobs")
  void aBrokenJobFailsWithNixsMessageAndPostsNothing(String file, String expected) throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/broken").resolve(file).toString(), "--nixpkgs",
          STUB.toString());
      assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
      String error = terminationMessage().get("error").asText();
      assertThat(error).contains(expected).doesNotContain("\u001b").doesNotContain(NIX.toString() + "/tests");
      assertThat(api.received()).as("nothing is posted").isEmpty();
    }
  }

  static Stream<Object[]> sandboxedJobs() throws IOException {
    try (Stream<Path> files = Files.list(NIX.resolve("tests/sandbox"))) {
      return files.filter(f -> f.toString().endsWith(".nix")).sorted().map(f -> {
        try {
          String first = Files.readAllLines(f).get(0);
          assertThat(first).as("%s starts with its expected message", f).startsWith("# expect: ");
          return new Object[] {f.getFileName().toString(), first.substring("# expect: ".length())};
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).toList().stream();
    }
  }

  /**
   * What the evaluation's sandbox refuses (docs/evaluation.md#the-sandbox), with nix's own message: a fetch outside
   * allowed-uris (the metadata endpoint, even with other URIs allowed), a file outside what the evaluation is given,
   * an import from derivation.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("sandboxedJobs")
  void theSandboxRefusesWithNixsMessage(String file, String expected) throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/sandbox").resolve(file).toString(),
          "--allowed-uris", "http://127.0.0.1:9/allowed github:NixOS/nixpkgs/" + "0".repeat(40));
      assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText()).contains(expected);
      assertThat(api.received()).as("nothing is posted").isEmpty();
    }
  }

  /** A URI under an allowed prefix is fetched; the same job without it in allowed-uris fails with nix's message. */
  @Test
  void aFetchUnderAnAllowedUriWorksAndOnlyThen() throws Exception {
    com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    files.createContext("/ci/", exchange -> {
      byte[] body = "echo fetched".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    files.start();
    try (FakeReportApi api = new FakeReportApi()) {
      String base = "http://127.0.0.1:" + files.getAddress().getPort() + "/ci";
      Path job = Files.writeString(dir.resolve("fetching.nix"), "{ nixpkgs, ... }: { steps = [ { name = \"s\"; "
          + "run = builtins.readFile (builtins.fetchurl \"" + base + "/step.sh\"); } ]; }\n");

      assertThat(evaluate(api, "--job-file", job.toString())).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText())
          .contains("access to URI '" + base + "/step.sh' is forbidden in restricted mode");

      assertThat(evaluate(api, "--job-file", job.toString(), "--allowed-uris", base)).as(log()).isZero();
      assertThat(JSON.readTree(api.received().get(0).body()).get("steps").toString())
          .isEqualTo("[{\"name\":\"s\",\"run\":\"echo fetched\"}]");
    } finally {
      files.stop(0);
    }
  }

  /** With import from derivation allowed, the job's steps come out of a derivation nix builds while evaluating. */
  @Test
  void anImportFromDerivationWorksWhenAllowed() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/sandbox/import-from-derivation.nix").toString(),
          "--allow-import-from-derivation");
      assertThat(exit).as(log()).isZero();
      assertThat(JSON.readTree(api.received().get(0).body()).get("steps").toString())
          .isEqualTo("[{\"name\":\"built during evaluation\",\"run\":\"true\"}]");
    }
  }

  @Test
  void positionsAreGivenInTheJobsOwnTerms() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      evaluate(api, "--job-file", NIX.resolve("tests/broken/syntax-error.nix").toString());
      assertThat(terminationMessage().get("error").asText())
          .isEqualTo("syntax error, unexpected '}', expecting ';' (at spec.nix:3:44)");
      evaluate(api, "--job-file", NIX.resolve("tests/broken/undefined-variable.nix").toString());
      assertThat(terminationMessage().get("error").asText()).startsWith("undefined variable 'makeFlags' (at spec.nix:3:");
      // the pod log shows nix's message as text, with the code around the position
      assertThat(log()).contains("error: undefined variable 'makeFlags'").contains("at spec.nix:3:")
          .doesNotContain("@nix {");
    }
  }

  @Test
  void onlyAZeroExitCounts() throws Exception {
    Path fake = dir.resolve("nix-instantiate");
    Files.writeString(fake, "#!/bin/sh\nprintf '{\"steps\":[{\"name\":\"a\",\"run\":\"x\"}'\n"
        + "echo 'error: out of memory' >&2\nexit 1\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    try (FakeReportApi api = new FakeReportApi()) {
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--nix-instantiate",
          fake.toString());
      assertThat(exit).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText()).isEqualTo("out of memory");
      assertThat(api.received()).as("partial JSON is never posted").isEmpty();
    }
  }

  @Test
  void aRefusalOfTheReportApiFailsTheEvaluationWithItsMessage() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      api.answer(422, "{\"error\":\"invalid_evaluation\",\"message\":\"steps[0].run: is longer than 65536 characters\"}");
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--nixpkgs",
          STUB.toString());
      assertThat(exit).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText()).isEqualTo(
          "the report API refused the evaluation (422): steps[0].run: is longer than 65536 characters");
      assertThat(api.received()).hasSize(1);
    }
  }

  @Test
  void anOversizedResultSaysSo() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      api.answer(413, "{\"error\":\"body_too_large\",\"message\":\"the body exceeds 262144 bytes\"}");
      evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--nixpkgs", STUB.toString());
      assertThat(terminationMessage().get("error").asText()).startsWith("the evaluation result is ")
          .contains("more than the report API accepts (the body exceeds 262144 bytes");
    }
  }

  /** The machine is evaluated with the agent jar given, so a missing jar fails the evaluation and says which. */
  @Test
  void aMachineWithAMissingAgentJarFailsNamingTheJarAndPostsNothing() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      Path missing = dir.resolve("no-such-agent.jar");
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/seed.nix").toString(), "--nixpkgs",
          STUB.toString(), "--agent-jar", missing.toString());
      assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText()).contains("nixek: agentJar " + missing + " does not exist");
      assertThat(api.received()).isEmpty();
    }
  }

  @Test
  void aReportApiThatIsDownForAWhileIsRetried() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      api.answer(503, "{\"error\":\"kubernetes_unavailable\",\"message\":\"retry later\"}");
      api.answer(503, "{\"error\":\"kubernetes_unavailable\",\"message\":\"retry later\"}");
      api.answer(200, "{\"result\":\"duplicate\"}");
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/prototype-command.nix").toString());
      assertThat(exit).as(log()).isZero();
      assertThat(api.received()).hasSize(3);
      assertThat(api.received()).extracting(FakeReportApi.Received::body).containsOnly(api.received().get(0).body());
      assertThat(terminationMessage().get("result").asText()).isEqualTo("duplicate");
      assertThat(terminationMessage().get("drvPath").isNull()).as("the prototype's job has no machine").isTrue();
    }
  }

  @Test
  void a401IsRetriedWhileTheReportApiMayNotKnowTheTokenYet() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      // the report API's watch has not delivered the token record yet (a local evaluation is that fast)
      api.answer(401, "{\"error\":\"unauthorized\",\"message\":\"unknown or revoked token\"}");
      api.answer(401, "{\"error\":\"unauthorized\",\"message\":\"unknown or revoked token\"}");
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/prototype-command.nix").toString());
      assertThat(exit).as(log()).isZero();
      assertThat(api.received()).hasSize(3);
      assertThat(terminationMessage().get("result").asText()).isEqualTo("applied");
    }
  }

  @Test
  void a401ThatOutlastsTheGraceIsTheReportApisRefusal() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      for (int i = 0; i < 50; i++) {
        api.answer(401, "{\"error\":\"unauthorized\",\"message\":\"unknown or revoked token\"}");
      }
      int exit = evaluate(api, "--job-file", NIX.resolve("tests/jobs/prototype-command.nix").toString());
      assertThat(exit).as(log()).isEqualTo(ExitCode.BUILD_FAILED);
      assertThat(terminationMessage().get("error").asText())
          .isEqualTo("the report API refused the evaluation (401): unknown or revoked token");
      // retried within the 3 s report timeout, then given up as a refusal, not as an unreachable API
      assertThat(api.received()).hasSizeBetween(2, 4);
    }
  }

  @Test
  void aReportApiThatNeverAnswersEndsWithExit3() throws Exception {
    FakeReportApi gone = new FakeReportApi();
    gone.close();
    int exit = evaluate(gone, "--job-file", NIX.resolve("tests/jobs/prototype-command.nix").toString());
    assertThat(exit).isEqualTo(ExitCode.UPLOAD_FAILED);
    assertThat(terminationMessage().get("error").asText()).startsWith("cannot post the evaluation to "
        + gone.url() + "/v1/jobs/ci/hello/evaluation");
  }

  @Test
  void usageErrorsAreReportedToo() throws Exception {
    try (FakeReportApi api = new FakeReportApi()) {
      assertThat(evaluate(api)).isEqualTo(ExitCode.USAGE);
      assertThat(terminationMessage().get("error").asText()).isEqualTo("give exactly one of --job-file and --flake");
    }
  }

  /** The drvPath nix-instantiate gives nix/machine.nix for these arguments (what the builder pod would build). */
  private static String instantiate(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("nix-instantiate", NIX.resolve("machine.nix").toString(),
        "--argstr", "nixpkgs", STUB.toString(), "--argstr", "agentJar", AGENT_JAR.toString()));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String outText = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return outText.lines().reduce((a, b) -> b).orElseThrow();
  }

  private static Path standInAgentJar() {
    try {
      Path jar = Files.createTempFile("nixek-agent", ".jar");
      jar.toFile().deleteOnExit();
      return Files.writeString(jar, "stand-in agent jar\n");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String commit(Path repo) throws Exception {
    run(repo, "git", "init", "-q");
    run(repo, "git", "add", "-A");
    run(repo, "git", "-c", "user.email=test@nixek.dev", "-c", "user.name=test", "commit", "-q", "-m", "job");
    Process p = new ProcessBuilder("git", "rev-parse", "HEAD").directory(repo.toFile()).start();
    String rev = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor(30, TimeUnit.SECONDS);
    return rev;
  }

  private static void run(Path dir, String... argv) throws Exception {
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", argv) + ": " + o).isZero();
  }
}
