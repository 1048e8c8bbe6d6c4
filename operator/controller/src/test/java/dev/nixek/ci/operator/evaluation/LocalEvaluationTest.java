package dev.nixek.ci.operator.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local evaluation's command (derived from the evaluation pod's), and one run's life: its private files, its
 * deadline, its failure messages, its kill, and a token that shows nowhere.
 */
class LocalEvaluationTest {
  private static final String TOKEN = "nxkev_" + "s3cr3t".repeat(7);
  private static final OperatorConfig CONFIG = OperatorConfig.fromEnv(Map.of(
      "NIXEK_REPORT_URL", "http://127.0.0.1:9080",
      "NIXEK_EVAL_COMMAND", "java -jar /clone/operator/builder/target/nixek-builder.jar",
      "NIXEK_IMAGE_NIX_DIR", "/clone/nix",
      "NIXEK_EVAL_MEMORY_LIMIT", "2Gi"));
  private static final EvaluationOptions OPTIONS = CONFIG.evaluation();

  @TempDir
  Path tmp;
  private final List<LocalEvaluation> ended = new CopyOnWriteArrayList<>();

  @Test
  void theCommandIsThePodsWithPrivateFilesNoMachineAndItsMemoryLimitAsRlimitData() {
    Pod pod = new EvaluationPods(CONFIG).pod(nixJob());
    var files = LocalEvaluationCommand.Files.in(tmp);
    List<String> expected = new ArrayList<>();
    for (String arg : pod.getSpec().getContainers().get(0).getCommand()) {
      expected.add(switch (arg) {
        case "/nixek/eval/job/job.nix" -> tmp.resolve("job.nix").toString();
        case "/nixek/eval/token/token" -> tmp.resolve("token").toString();
        case "/dev/termination-log" -> tmp.resolve("termination-log").toString();
        default -> arg;
      });
    }
    expected.add("--no-machine");

    List<String> argv = LocalEvaluationCommand.argv(pod, files, true);

    assertThat(argv.subList(0, 5)).containsExactly("/bin/sh", "-c", "ulimit -d \"$1\" && shift && exec \"$@\"",
        "nixek-evaluate", Long.toString(2L * 1024 * 1024));
    assertThat(argv.subList(5, argv.size())).isEqualTo(expected);
    assertThat(argv).containsSubsequence("java", "-jar", "/clone/operator/builder/target/nixek-builder.jar",
        "evaluate", "--nix-dir", "/clone/nix", "--job-file", tmp.resolve("job.nix").toString())
        .containsSubsequence("--report-url", "http://127.0.0.1:9080", "--job", "ci/hello")
        .noneMatch(a -> a.startsWith("/nixek/") || a.equals("/dev/termination-log"));
  }

  @Test
  void aProviderThatBootsMachinesGetsThemEvaluatedAndNoLimitMeansNoShell() {
    OperatorConfig unlimited = OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_MEMORY_LIMIT", "none"));
    NixekJob flake = nixJob();
    flake.getSpec().nix = null;
    flake.getSpec().flake = new NixekJobFlake();
    flake.getSpec().flake.url = "git+https://example.com/r";
    flake.getSpec().flake.rev = "0123456789abcdef0123456789abcdef01234567";
    List<String> argv = LocalEvaluationCommand.argv(new EvaluationPods(unlimited).pod(flake),
        LocalEvaluationCommand.Files.in(tmp), false);
    assertThat(argv.get(0)).isNotEqualTo("/bin/sh");
    assertThat(argv).doesNotContain("--no-machine", "--job-file")
        .containsSubsequence("--flake", "git+https://example.com/r?rev=0123456789abcdef0123456789abcdef01234567");
  }

  @Test
  void aCommitEvaluationPodsCommandNeedsNoTokenAndKeepsItsMemoryLimit() {
    Pod pod = new io.fabric8.kubernetes.api.model.PodBuilder().withNewSpec().addNewContainer()
        .withName(EvaluationPods.CONTAINER).withCommand("java", "-jar", "/b.jar", "job-names", "--flake",
            "git+file:///r?rev=abc", "--termination-log", "/dev/termination-log")
        .withNewResources().addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("1Gi")).endResources()
        .endContainer().endSpec().build();
    var files = LocalEvaluationCommand.Files.in(tmp);
    assertThat(LocalEvaluationCommand.commitArgv(pod, files)).containsExactly("/bin/sh", "-c",
        "ulimit -d \"$1\" && shift && exec \"$@\"", "nixek-evaluate", Long.toString(1024L * 1024), "java", "-jar",
        "/b.jar", "job-names", "--flake", "git+file:///r?rev=abc", "--termination-log",
        tmp.resolve("termination-log").toString());
    // a job's evaluation still must have its token mount
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LocalEvaluationCommand.argv(pod, files, false))
        .hasMessageContaining("/nixek/eval/token/token");
  }

  @Test
  void aCommitEvaluationHasNoTokenFileAndItsAnswerIsItsTerminationMessage() throws Exception {
    Path seen = tmp.resolve("seen");
    LocalEvaluation run = LocalEvaluation.start("ci/app at abc", tmp.resolve("runs"), null, null, null,
        files -> sh("ls \"$0\" > " + seen + "; printf '%s' '{\"names\":[\"hello\"]}' > \"$1\"", files.dir(),
            files.terminationLog()),
        Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(30), OPTIONS, ended::add);
    awaitVerdict(run);
    assertThat(run.verdict()).isEqualTo(new LocalEvaluation.Verdict.Ended("{\"names\":[\"hello\"]}"));
    assertThat(Files.readString(seen)).isEmpty();
    assertThat(tmp.resolve("runs")).isEmptyDirectory();
  }

  @Test
  void aPrivateRepositorysCommitGetsItsTokenAsAPrivateFileAtThePodsMountPathAndItsOutputNeverShowsIt()
      throws Exception {
    String forgeToken = "gitea-" + "f0rg3".repeat(6);
    NixekJob job = nixJob();
    job.getSpec().nix = null;
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+https://git.example.com/org/app.git";
    job.getSpec().flake.rev = "0123456789abcdef0123456789abcdef01234567";
    Pod pod = new EvaluationPods(CONFIG).pod(job, true);
    var files = LocalEvaluationCommand.Files.in(tmp);
    List<String> argv = LocalEvaluationCommand.argv(pod, files, false);
    assertThat(argv).contains("--forge-token-file", tmp.resolve("forge-token").toString())
        .doesNotContain("/nixek/eval/forge/token");

    Path seen = tmp.resolve("seen");
    LocalEvaluation run = LocalEvaluation.start("ci/app at abc", tmp.resolve("runs"), null, null, forgeToken,
        f -> sh("stat -c '%a' \"$0\" > " + seen + "; cat \"$0\" >> " + seen
            + "; echo \"fetching with $(cat \"$0\")\"; printf '{\"error\":\"%s\"}' \"$(cat \"$0\")\" > \"$1\"; exit 2",
            f.forgeTokenFile(), f.terminationLog()),
        Map.of("PATH", System.getenv("PATH")), Duration.ofSeconds(30), OPTIONS, ended::add);
    awaitVerdict(run);
    assertThat(Files.readAllLines(seen)).containsExactly("400", forgeToken);
    assertThat(run.verdict().toString()).doesNotContain(forgeToken).contains("<repository token>");
    assertThat(run.redact("x " + forgeToken + " y")).isEqualTo("x <repository token> y");
    assertThat(tmp.resolve("runs")).isEmptyDirectory();
  }

  @Test
  void theEnvironmentKeepsWhatRunsJavaAndNixAndNoCredentials() {
    Map<String, String> operator = new HashMap<>(Map.of("PATH", "/usr/bin", "HOME", "/home/op", "NIX_CONFIG",
        "substituters =", "KUBECONFIG", "/home/op/.kube/config", "AWS_SECRET_ACCESS_KEY", "secret",
        "NIXEK_TOKEN_KEY", "key", "KUBERNETES_SERVICE_HOST", "10.0.0.1"));
    assertThat(LocalEvaluationCommand.environment(operator, LocalEvaluationCommand.Files.in(tmp)))
        .containsOnly(Map.entry("PATH", "/usr/bin"), Map.entry("HOME", "/home/op"),
            Map.entry("NIX_CONFIG", "substituters ="), Map.entry("TMPDIR", tmp.toString()));
  }

  @Test
  void itsFilesArePrivateAndGoneAfterwards() throws Exception {
    Path seen = tmp.resolve("seen");
    LocalEvaluation run = start(Duration.ofSeconds(30), files -> sh(
        "stat -c '%a' \"$0\" > " + seen + "; stat -c '%a' \"$1\" >> " + seen + "; stat -c '%a' \"$2\" >> " + seen
            + "; cat \"$2\" >> " + seen, files.tokenFile(), files.dir(), files.jobFile()));
    awaitVerdict(run);
    assertThat(run.verdict()).isInstanceOf(LocalEvaluation.Verdict.Ended.class);
    assertThat(Files.readAllLines(seen)).containsExactly("400", "700", "400", "{ steps = [ ]; }");
    assertThat(tmp.resolve("runs")).isEmptyDirectory();
    assertThat(ended).containsExactly(run);
  }

  @Test
  void aRunPastItsDeadlineIsKilledWithItsChildrenAndSaysWhy() throws Exception {
    Path pid = tmp.resolve("child-pid");
    LocalEvaluation run = start(Duration.ofSeconds(1), files -> sh("sleep 600 & echo $! > " + pid + "; wait"));
    awaitVerdict(run);
    assertThat(run.verdict()).isEqualTo(new LocalEvaluation.Verdict.Failed(
        "the evaluation ran longer than 1s and was stopped (NIXEK_EVAL_TIMEOUT_SECONDS)"));
    long child = Long.parseLong(Files.readString(pid).strip());
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void aFailureIsTheErrorTheCommandWrote() throws Exception {
    LocalEvaluation run = start(Duration.ofSeconds(30), files -> sh("echo 'nix says things'; printf '%s' "
        + "'{\"error\":\"syntax error, unexpected end of file (at spec.nix:1:10)\",\"logTail\":\"...\"}' > \"$0\"; "
        + "exit 2", files.terminationLog()));
    awaitVerdict(run);
    assertThat(run.verdict()).isEqualTo(new LocalEvaluation.Verdict.Failed(
        "syntax error, unexpected end of file (at spec.nix:1:10)"));
  }

  @Test
  void outOfMemorySaysWhichLimit() throws Exception {
    LocalEvaluation run = start(Duration.ofSeconds(30), files -> sh("printf '%s' '{\"error\":\"out of memory\"}' "
        + "> \"$0\"; exit 2", files.terminationLog()));
    awaitVerdict(run);
    assertThat(run.verdict()).isEqualTo(new LocalEvaluation.Verdict.Failed(
        "out of memory (each process of a local evaluation may use NIXEK_EVAL_MEMORY_LIMIT=2Gi)"));
  }

  @Test
  void withoutAMessageTheLastLinesOfItsOutputSayWhyAndNeverTheToken() throws Exception {
    LocalEvaluation run = start(Duration.ofSeconds(30), files -> sh("echo starting; echo \"token: $(cat \"$0\")\"; "
        + "echo 'Error: Unable to access jarfile x.jar' >&2; exit 1", files.tokenFile()));
    awaitVerdict(run);
    String message = ((LocalEvaluation.Verdict.Failed) run.verdict()).message();
    assertThat(message).isEqualTo("the evaluation process exited with code 1: starting | token: <evaluation token> "
        + "| Error: Unable to access jarfile x.jar").doesNotContain(TOKEN);
  }

  @Test
  void aTokenInTheTerminationLogIsRedactedToo() throws Exception {
    LocalEvaluation run = start(Duration.ofSeconds(30), files -> sh("printf '{\"error\":\"bad %s\"}' \"$(cat \"$0\")\""
        + " > \"$1\"; exit 2", files.tokenFile(), files.terminationLog()));
    awaitVerdict(run);
    assertThat(((LocalEvaluation.Verdict.Failed) run.verdict()).message()).isEqualTo("bad <evaluation token>");
  }

  @Test
  void stoppingKillsItAndGivesNoVerdictToItsJob() throws Exception {
    LocalEvaluation run = start(Duration.ofSeconds(600), files -> sh("exec sleep 600"));
    ProcessHandle handle = ProcessHandle.of(run.pid()).orElseThrow();
    run.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !handle.isAlive());
    Thread.sleep(200);
    assertThat(ended).isEmpty();
  }

  private LocalEvaluation start(Duration deadline, Function<LocalEvaluationCommand.Files, List<String>> argv)
      throws Exception {
    return LocalEvaluation.start("ci/hello", tmp.resolve("runs"), "{ steps = [ ]; }", TOKEN, null, argv,
        Map.of("PATH", System.getenv("PATH")), deadline, OPTIONS, ended::add);
  }

  private static List<String> sh(String script, Object... args) {
    List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", script));
    for (Object a : args) {
      argv.add(a.toString());
    }
    return argv;
  }

  private void awaitVerdict(LocalEvaluation run) {
    await().atMost(Duration.ofSeconds(20)).until(() -> run.verdict() != null && !ended.isEmpty());
  }

  private static NixekJob nixJob() {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("hello").withUid("uid-1").build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = "{ steps = [ ]; }";
    return job;
  }
}
