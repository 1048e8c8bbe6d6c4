package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.GitRepos;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.RequiredTools;
import dev.nixek.ci.testing.kube.PodGitConfig;
import dev.nixek.ci.testing.kube.TestKubelet;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs written in Nix, end to end on a real kube-apiserver (server-side apply on): the operator starts the job's
 * evaluation pod, which the test kubelet runs — the real builder jar's {@code evaluate} with real nix and the stub
 * nixpkgs —, the pod posts its result to the report API process, the operator launches the {@code local} machine
 * with the evaluated steps, and the real agent runs them. Broken jobs end {@code EvaluationFailed} with nix's
 * message, through the same pods.
 */
class NixJobsE2E extends RealApiServerStackTier {
  static final Path NIX = ManifestsIT.HOME.resolve("nix");
  static final Path STUB = NIX.resolve("tests/stub-nixpkgs");
  static final Path AGENT_JAR = ManifestsIT.HOME.resolve("agent/target/nixek-agent.jar");

  private TestKubelet kubelet;

  @Override
  Map<String, String> stackEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("NIXEK_IMAGE_NIX_DIR", NIX.toString());
    // the machine gets the agent jar this build made, as in the image
    env.put("NIXEK_IMAGE_AGENT_JAR", AGENT_JAR.toString());
    env.put("NIXEK_IMAGE_NIXPKGS", STUB.toString());
    env.put("NIXEK_EVAL_COMMAND", String.join(" ", Stack.javaJar("operator/builder/target/nixek-builder.jar")));
    // the local provider would evaluate in local processes: this tier is about evaluation pods
    env.put("NIXEK_EVAL_RUNNER", "pod");
    return env;
  }

  @BeforeEach
  void startKubelet() throws Exception {
    RequiredTools.nix(); // the evaluation pods run the image's Nix version, from PATH
    // evaluation pods run as the image's user, not root: they may reach the flake repositories under work/repo (not
    // the rest of work), and git, which refuses a repository of another owner, is told to trust them
    TestKubelet.passableByPods(work);
    TestKubelet.shareWithPods(Files.createDirectories(work.resolve("repo")));
    Map<String, String> git = PodGitConfig.trustingAll(work);
    // the pods get no binary cache to ask (offline); nix and git come from PATH
    kubelet = TestKubelet.builder(client).namespace(ns).onStart(launch -> {
      launch.environment().put("NIX_CONFIG", "substituters =");
      launch.environment().putAll(git);
    }).start();
  }

  @AfterEach
  void stopKubelet() {
    if (kubelet != null) {
      kubelet.close();
    }
  }

  @Test
  void aFlakeJobFromALocalGitRepositoryAtAPinnedRevEvaluatesAndRunsEndToEnd() throws Exception {
    Path repo = work.resolve("repo");
    Files.createDirectories(repo);
    // the earlier prototype's shape: jobs as functions under ci.jobs, argv steps; the seed's machine
    Files.writeString(repo.resolve("flake.nix"), """
        {
          outputs = { self }: {
            ci.jobs.greeting = { }: {
              machine = { pkgs, ... }: { environment.systemPackages = [ pkgs.rustup pkgs.git ]; };
              steps = [
                { name = "greet"; command = [ "echo" "hello from a flake" ]; }
                { name = "env"; run = "echo $GREETING"; env = { GREETING = "hi"; }; timeoutSeconds = 60; }
              ];
            };
          };
        }
        """);
    String rev = GitRepos.commitAll(repo);
    // a later commit breaks the job: the pinned revision is what runs
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs.greeting = throw \"later\"; }; }");
    GitRepos.commitAll(repo);

    NixekJob job = job("greeting");
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+file://" + repo;
    job.getSpec().flake.rev = rev;
    client.resource(job).create();

    NixekJob done = awaitTerminal("greeting");
    assertThat(succeeded(done).getStatus()).as(succeeded(done).getMessage() + "\n" + stack.reportApiLogs())
        .isEqualTo("True");
    assertThat(done.getStatus().evaluation.steps).extracting(s -> s.name).containsExactly("greet", "env");
    assertThat(done.getStatus().evaluation.steps.get(0).command).containsExactly("echo", "hello from a flake");
    assertThat(done.getStatus().evaluation.steps.get(1).env).containsEntry("GREETING", "hi");
    assertThat(done.getStatus().evaluation.machine.drvPath).isEqualTo(seedDrvPath());
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
    assertThat(done.getStatus().steps.get(0).outputTail).isEqualTo("hello from a flake\n");
    assertThat(done.getStatus().steps.get(1).outputTail).isEqualTo("hi\n");

    String uid = done.getMetadata().getUid();
    assertThat(kubelet.started()).containsExactly("nixek-eval-" + uid);
    // it ran as the image's user (the pod's securityContext) in its own Nix store, the emptyDir at /nix
    Path store = kubelet.podDir(ns, "nixek-eval-" + uid).resolve("volumes/nix-store/store");
    assertThat(Files.getAttribute(store, "unix:uid")).isEqualTo(65532);
    try (var paths = Files.list(store)) {
      // the flake, fetched into the pod's store by nix running as 65532
      assertThat(paths.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith("-source"));
    }
    assertThat(reasons("greeting")).contains("EvaluationStarted", "Evaluated", "Launched", "Succeeded");
    // the plaintext evaluation token and its record are gone once the evaluation is recorded; the step token stays
    assertThat(client.secrets().inNamespace(ns).withName("nixek-eval-" + uid).get()).isNull();
    assertThat(done.getStatus().evaluationTokenSha256).isNull();
    assertThat(done.getStatus().stepTokenSha256).isNotNull();
    assertThat(stack.reportApiLogs()).contains("evaluation for " + ns + "/greeting").contains("recorded");

    CommandResult get = server.kubectl("get", "nixekjobs", "-n", ns);
    assertThat(get.stdout()).containsPattern("greeting\\s+\\S+\\s+Succeeded\\s+2/2\\s+local-[0-9a-f]+");
  }

  @Test
  void thePrototypesHelloWorldAndShouldFailJobsRunAsWrittenInlineAndFromAFlake() throws Exception {
    // as the earlier prototype wrote them: functions of { info ? "" }, steps named in plain words
    create("hello-world-inline", Files.readString(NIX.resolve("tests/jobs/prototype-hello-world.nix")));
    create("should-fail-inline", Files.readString(NIX.resolve("tests/jobs/prototype-should-fail.nix")));
    Path repo = work.resolve("prototype-repo");
    Files.createDirectories(repo);
    Files.copy(NIX.resolve("tests/fixtures/flake/flake.nix"), repo.resolve("flake.nix"));
    String rev = GitRepos.commitAll(repo);
    for (String name : List.of("prototype-hello-world", "prototype-should-fail")) {
      NixekJob job = job(name);
      job.getSpec().flake = new NixekJobFlake();
      job.getSpec().flake.url = "git+file://" + repo;
      job.getSpec().flake.rev = rev;
      client.resource(job).create();
    }

    for (String hello : List.of("hello-world-inline", "prototype-hello-world")) {
      NixekJob done = awaitTerminal(hello);
      assertThat(succeeded(done).getStatus()).as(hello + ": " + succeeded(done).getMessage()).isEqualTo("True");
      assertThat(done.getStatus().evaluation.steps).extracting(s -> s.name, s -> s.run)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("Check hello", "echo hello"));
      assertThat(done.getStatus().steps).extracting(s -> s.name, s -> s.state, s -> s.outputTail)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("Check hello", State.Succeeded, "hello\n"));
    }
    for (String fails : List.of("should-fail-inline", "prototype-should-fail")) {
      NixekJob done = awaitTerminal(fails);
      Condition c = succeeded(done);
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).as(fails + ": " + c.getMessage()).isEqualTo("StepFailed");
      assertThat(c.getMessage()).isEqualTo("step 'This step fails' (1/1) failed with exit code 1");
      assertThat(done.getStatus().steps).extracting(s -> s.name, s -> s.state, s -> s.exitCode)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("This step fails", State.Failed, 1));
    }
  }

  @Test
  void theSeedJobAsWrittenEvaluatesToItsTwoStepsAndRunsThem() throws Exception {
    NixekJob job = job("seed");
    // the job of docs/evaluation.md#the-seed-job, exactly as written there (nix/tests/jobs/seed.nix holds it)
    job.getSpec().nix = Files.readString(NIX.resolve("tests/jobs/seed.nix"));
    client.resource(job).create();

    NixekJob done = awaitTerminal("seed");
    assertThat(done.getStatus().evaluation.steps).extracting(s -> s.name, s -> s.run).containsExactly(
        org.assertj.core.groups.Tuple.tuple("build", "cargo build --release"),
        org.assertj.core.groups.Tuple.tuple("test", "cargo test"));
    assertThat(done.getStatus().evaluation.machine.drvPath).isEqualTo(seedDrvPath());
    assertThat(done.getStatus().evaluation.machine.system).isEqualTo("x86_64-linux");
    // provenance: the evaluation pod's Nix, the image's version
    assertThat(done.getStatus().evaluation.nixVersion).isEqualTo(dev.nixek.ci.testing.kube.NixVersion.pinned());
    // it ran as any job does: on this machine there is no Cargo project, so 'build' fails and 'test' is skipped
    assertThat(succeeded(done).getReason()).as(succeeded(done).getMessage()).isEqualTo("StepFailed");
    assertThat(succeeded(done).getMessage()).startsWith("step 'build' (1/2) failed with exit code ");
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsExactly(State.Failed, State.Skipped);
  }

  @Test
  void brokenJobsEndEvaluationFailedWithAMessageNamingTheProblem() throws Exception {
    Path repo = work.resolve("repo");
    Files.createDirectories(repo);
    Files.writeString(repo.resolve("flake.nix"), "{ outputs = { self }: { ci.jobs.other = { steps = [ ]; }; }; }");
    String rev = GitRepos.commitAll(repo);
    Map<String, String> expected = new LinkedHashMap<>();
    create("syntax", "{ nixpkgs, ... }: {\n  steps = [ { name = \"build\"; run = \"make\" } ];\n}\n");
    expected.put("syntax", "syntax error, unexpected '}', expecting ';' (at spec.nix:2:44)");
    create("no-steps", "{ machine = { ... }: { }; }");
    expected.put("no-steps", "nixek: job has no attribute 'steps'");
    create("throws", "{ steps = throw \"the release branch is frozen\"; }");
    expected.put("throws", "the release branch is frozen");
    create("nameless", "{ steps = [ { name = \"build\"; run = \"make\"; } { run = \"make check\"; } ]; }");
    expected.put("nameless", "nixek: steps[1] has no 'name'");
    create("undefined", "{ steps = [ { name = \"build\"; run = \"make ${makeFlags}\"; } ]; }");
    expected.put("undefined", "undefined variable 'makeFlags' (at spec.nix:1:");
    create("control", "{ steps = [ { name = \"run\\ttests\"; run = \"make check\"; } ]; }");
    expected.put("control", "nixek: steps[0] 'name' is not a step name: control character U+0009 at character 4");
    NixekJob flake = job("missing");
    flake.getSpec().flake = new NixekJobFlake();
    flake.getSpec().flake.url = "git+file://" + repo;
    flake.getSpec().flake.rev = rev;
    client.resource(flake).create();
    expected.put("missing", "nixek: flake has no attribute 'ci.jobs.missing'");
    // and fixtures of nix/tests/broken with the message their first line expects: a missing package, a machine that
    // is not a module, a step with both run and command, steps that are not a list
    for (String broken : List.of("missing-attribute", "machine-not-a-module", "both-run-and-command",
        "steps-not-a-list")) {
      String nix = Files.readString(NIX.resolve("tests/broken/" + broken + ".nix"));
      create(broken, nix);
      expected.put(broken, nix.lines().findFirst().orElseThrow().replaceFirst("^# expect: ", ""));
    }
    // and the sandbox's refusals with nix's messages (docs/evaluation.md#the-sandbox), through real pods: a fetch of
    // the metadata endpoint (restrict-eval, allowed-uris), a file outside, an import from derivation
    for (String sandboxed : List.of("fetchurl-metadata", "read-outside", "import-from-derivation")) {
      String nix = Files.readString(NIX.resolve("tests/sandbox/" + sandboxed + ".nix"));
      create("sandbox-" + sandboxed, nix);
      expected.put("sandbox-" + sandboxed, nix.lines().findFirst().orElseThrow().replaceFirst("^# expect: ", ""));
    }

    for (Map.Entry<String, String> e : expected.entrySet()) {
      NixekJob done = awaitTerminal(e.getKey());
      Condition c = succeeded(done);
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).as(e.getKey() + ": " + c.getMessage()).isEqualTo("EvaluationFailed");
      assertThat(c.getMessage()).as(e.getKey()).contains(e.getValue()).startsWith("evaluation of ");
      assertThat(done.getStatus().evaluation).isNull();
      assertThat(done.getStatus().instanceId).as("nothing launched").isNull();
      assertThat(events(e.getKey())).anySatisfy(ev -> {
        assertThat(ev.getType()).isEqualTo("Warning");
        assertThat(ev.getReason()).isEqualTo("EvaluationFailed");
        assertThat(ev.getMessage()).contains(e.getValue());
      });
      String uid = done.getMetadata().getUid();
      assertThat(client.secrets().inNamespace(ns).withName("nixek-eval-" + uid).get()).isNull();
    }
    try (var machines = Files.list(work.resolve("machines"))) {
      assertThat(machines.toList()).as("no machine was launched").isEmpty();
    } catch (java.nio.file.NoSuchFileException none) {
      // no machine directory at all: nothing launched either
    }
  }

  private void create(String name, String nix) {
    NixekJob job = job(name);
    job.getSpec().nix = nix;
    client.resource(job).create();
  }

  private NixekJob job(String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName(name).build());
    job.setSpec(new NixekJobSpec());
    return job;
  }

  /** The drvPath nix/machine.nix gives the seed job's machine (the builder pod would build this). */
  private static String seedDrvPath() throws Exception {
    Path seed = NIX.resolve("tests/jobs/seed.nix");
    Process p = new ProcessBuilder("nix-instantiate", NIX.resolve("machine.nix").toString(), "--argstr", "jobFile",
        seed.toString(), "--argstr", "nixpkgs", STUB.toString(), "--argstr", "agentJar", AGENT_JAR.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out.lines().reduce((a, b) -> b).orElseThrow();
  }


  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(120)).until(() -> get(name) != null && Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  private List<Event> events(String job) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName())).toList();
  }

  private List<String> reasons(String job) {
    return events(job).stream().map(Event::getReason).toList();
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
