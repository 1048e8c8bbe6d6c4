package dev.nixek.ci.operator.evaluation;

import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.MockJobOperator;
import dev.nixek.ci.operator.testing.Reports;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reconciler with the local evaluation runner on the fabric8 mock API server: the evaluate command is a stand-in
 * script that records what it was given and then does what the job's text asks (wait, fail, sleep); the test plays
 * the report API ({@link Reports#evaluation}). No pod is made; the token's record is; the process is killed when the
 * job is cancelled or deleted, or the operator stops.
 */
@EnableKubernetesMockClient(crud = true)
class LocalEvaluationMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "ci";
  /** Records its arguments, token file mode, job file and pid in $SEEN/<job>, then acts on the job's text. */
  private static final String SCRIPT = """
      job=; tok=; log=; name=
      while [ $# -gt 0 ]; do
        case "$1" in
          --job-file) job=$2; shift;;
          --token-file) tok=$2; shift;;
          --termination-log) log=$2; shift;;
          --job) name=${2#*/}; shift;;
        esac
        shift
      done
      out="$SEEN/$name"
      { echo "args: $ARGS"; echo "token-mode: $(stat -c %a "$tok")"; echo "job: $(cat "$job")"; echo "pid: $$"; } \
        > "$out.tmp"
      mv "$out.tmp" "$out"
      case "$(cat "$job")" in
        *fail*) printf '%s' '{"error":"attribute '"'"'doesNotExist'"'"' missing (at spec.nix:1:3)"}' > "$log"; exit 2;;
        *sleep*) sleep 600 & echo $! > "$out.child"; wait;;
        *) while [ ! -e "$out.go" ]; do sleep 0.1; done; exit 0;;
      esac
      """;

  @TempDir
  Path tmp;
  private final FakeMachineProvider provider = new FakeMachineProvider();
  private MockJobOperator operator;
  private Reports reports;
  private Path seen;
  private Map<String, String> env;

  @BeforeEach
  void start() throws Exception {
    seen = Files.createDirectories(tmp.resolve("seen"));
    Path script = tmp.resolve("evaluate.sh");
    // the command's own arguments are passed through, so the script sees them all
    Files.writeString(script, "ARGS=\"$*\"\n" + SCRIPT);
    env = Map.of(
        "NIXEK_REPORT_URL", "http://127.0.0.1:9",
        "NIXEK_EVAL_RUNNER", "local",
        "NIXEK_EVAL_COMMAND", "/usr/bin/env SEEN=" + seen + " /bin/sh " + script,
        "NIXEK_EVAL_MEMORY_LIMIT", "none");
    operator = MockJobOperator.start(client, provider, NS, env);
    reports = new Reports(client);
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    client.resources(NixekJob.class).inAnyNamespace().delete();
    client.secrets().inAnyNamespace().delete();
  }

  @Test
  void theEvaluationIsALocalProcessWhoseResultComesThroughTheReportApi() throws Exception {
    NixekJob job = create(nixJob("hello", "{ steps = [ ]; }"));
    String uid = job.getMetadata().getUid();
    Map<String, String> got = awaitSeen("hello");
    NixekJob evaluating = awaitReason("hello", "Evaluating");
    assertThat(succeeded(evaluating).getMessage())
        .isEqualTo("evaluating spec.nix in a local process (pid " + got.get("pid") + ")");
    assertThat(got.get("args")).startsWith("evaluate --nix-dir /opt/nixek/src/nix --agent-jar /opt/nixek/nixek-agent.jar "
        + "--job-file ")
        .contains(" --report-url http://127.0.0.1:9 --job ci/hello --token-file ")
        .endsWith(" --no-machine").doesNotContain("/nixek/eval/", "/dev/termination-log");
    assertThat(got.get("token-mode")).isEqualTo("400");
    assertThat(got.get("job")).isEqualTo("{ steps = [ ]; }");
    assertThat(client.pods().inNamespace(NS).list().getItems()).as("no pod").isEmpty();
    assertThat(client.resources(NixekJob.class).inNamespace(NS).withName("hello").get().getStatus()
        .evaluationTokenSha256).as("the token's record, which the report API checks").isNotNull();

    NixekJobEvaluation evaluation = new NixekJobEvaluation();
    evaluation.steps = List.of(run("greet", "echo hi"));
    evaluation.machineSkipped = true;
    reports.evaluation(NS, "hello", evaluation);
    Files.createFile(seen.resolve("hello.go"));

    awaitReason("hello", "Running");
    assertThat(provider.launched()).hasSize(1);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(client.resources(NixekJob.class)
        .inNamespace(NS).withName("hello").get().getStatus().evaluationTokenSha256).isNull());
    assertThat(client.v1().events().inNamespace(NS).list().getItems()).filteredOn(e -> "Evaluated".equals(
        e.getReason())).singleElement().satisfies(e -> assertThat(e.getMessage()).isEqualTo(
        "spec.nix evaluated to 1 step; its machine was not evaluated (provider fake boots no machine)"));
  }

  @Test
  void aFailedEvaluationEndsTheJobWithTheCommandsMessage() throws Exception {
    create(nixJob("broken", "{ fail = 1; }"));
    NixekJob done = awaitReason("broken", "EvaluationFailed");
    assertThat(succeeded(done).getMessage())
        .isEqualTo("evaluation of spec.nix failed: attribute 'doesNotExist' missing (at spec.nix:1:3)");
    assertThat(provider.launched()).isEmpty();
  }

  @Test
  void cancellingKillsTheProcess() throws Exception {
    create(nixJob("cancelled", "{ sleep = 1; }"));
    ProcessHandle child = awaitChild("cancelled");
    TestJobs.cancel(client, NS, "cancelled");
    awaitReason("cancelled", "Cancelled");
    await().atMost(Duration.ofSeconds(15)).until(() -> !child.isAlive());
  }

  @Test
  void deletingTheJobKillsTheProcess() throws Exception {
    create(nixJob("deleted", "{ sleep = 1; }"));
    ProcessHandle child = awaitChild("deleted");
    client.resources(NixekJob.class).inNamespace(NS).withName("deleted").delete();
    await().atMost(Duration.ofSeconds(15)).until(() -> !child.isAlive());
  }

  @Test
  void stoppingTheOperatorKillsTheProcessAndARestartedOneStartsAFreshEvaluation() throws Exception {
    create(nixJob("stopped", "{ sleep = 1; }"));
    ProcessHandle child = awaitChild("stopped");
    String firstPid = awaitSeen("stopped").get("pid");
    operator.close();
    operator = null;
    await().atMost(Duration.ofSeconds(15)).until(() -> !child.isAlive());

    Files.delete(seen.resolve("stopped"));
    Files.delete(seen.resolve("stopped.child"));
    operator = MockJobOperator.start(client, provider, NS, env);
    ProcessHandle again = awaitChild("stopped");
    assertThat(awaitSeen("stopped").get("pid")).isNotEqualTo(firstPid);
    assertThat(again.isAlive()).isTrue();
  }

  private Map<String, String> awaitSeen(String name) throws Exception {
    Path file = seen.resolve(name);
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file));
    Map<String, String> m = new java.util.HashMap<>();
    for (String line : Files.readAllLines(file)) {
      int colon = line.indexOf(": ");
      m.put(line.substring(0, colon), line.substring(colon + 2));
    }
    return m;
  }

  /** The evaluation's own child (a sleep), which must die with it. */
  private ProcessHandle awaitChild(String name) throws Exception {
    Path file = seen.resolve(name + ".child");
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(file) && !Files.readString(file).isBlank());
    long pid = Long.parseLong(Files.readString(file).strip());
    return ProcessHandle.of(pid).orElseThrow();
  }

  private static NixekJob nixJob(String name, String nix) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = nix;
    return job;
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
}
