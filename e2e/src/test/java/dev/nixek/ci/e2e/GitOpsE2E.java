package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.HealthJudges.Verdict;
import dev.nixek.ci.testing.kube.CommandResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * GitOps on a real API server with the whole stack (operator, report API, the local provider running the real agent),
 * jobs applied with kubectl as a GitOps tool applies them: Argo CD's health check (Lua, under lua5.4) and kstatus
 * (cli-utils) judge jobs captured in each state of real runs; re-applying an ended job runs nothing again and its
 * status is not stale; a changed spec is refused naming the field while {@code spec.cancel} still works; the run-again
 * example makes a new job, and a new launch, each time it is created.
 */
class GitOpsE2E extends RealApiServerStackTier {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(180);

  private static final String JOB = """
      apiVersion: ci.nixek.dev/v1alpha1
      kind: NixekJob
      metadata:
        name: %s
      spec:
        machine: '{ pkgs, ... }: { }'
        steps:
        - name: build
          run: %s
      %s
      """;

  /** The captured objects, as the API server sent them, judged by both tools: the table of docs/operations.md. */
  @Test
  void everyStateOfARealJobGetsItsVerdict() throws Exception {
    List<String> watched = new CopyOnWriteArrayList<>();
    Watch watch = client.genericKubernetesResources("ci.nixek.dev/v1alpha1", "NixekJob").inNamespace(ns)
        .watch(new Watcher<GenericKubernetesResource>() {
          @Override
          public void eventReceived(Action action, GenericKubernetesResource resource) {
            watched.add(Serialization.asJson(resource));
          }

          @Override
          public void onClose(WatcherException cause) {}
        });
    try {
      apply(JOB.formatted("succeeded", "'echo ok'", "")).orThrow();
      apply(JOB.formatted("failed", "'exit 3'", "")).orThrow();
      apply(JOB.formatted("running", "'sleep 300'", "")).orThrow();
      // two steps of one name pass the schema (a pairwise CEL rule would exceed its cost budget); the operator refuses
      apply(JOB.formatted("invalid", "'true'", "  - name: build\n    run: 'true'")).orThrow();
      apply("""
          apiVersion: ci.nixek.dev/v1alpha1
          kind: NixekJob
          metadata:
            name: evaluating
          spec:
            nix: '{ steps = [ ]; }'
          """).orThrow();

      Map<String, String> captured = new LinkedHashMap<>();
      captured.put("running", awaitReason("running", "Running"));
      CommandResult changed = apply(JOB.formatted("running", "'sleep 1'", ""));
      assertThat(changed.exitCode()).as("a changed step after launch: %s", changed.stdout()).isNotZero();
      assertThat(changed.stderr()).contains("spec.steps: Invalid value").contains("spec.steps is immutable");
      captured.put("evaluating", await().atMost(WAIT).until(() -> firstWithReason(watched, "evaluating",
          "Evaluating"), Optional::isPresent).orElseThrow());
      captured.put("succeeded", awaitReason("succeeded", "Succeeded"));
      captured.put("failed", awaitReason("failed", "StepFailed"));
      captured.put("invalid", awaitReason("invalid", "InvalidSpec"));
      server.kubectl("patch", "-n", ns, "nixekjob", "running", "--type=merge", "-p", "{\"spec\":{\"cancel\":true}}")
          .orThrow();
      captured.put("cancelled", awaitReason("running", "Cancelled"));

      Map<String, List<String>> expected = Map.of(
          "running", List.of("Progressing", "InProgress"),
          "evaluating", List.of("Progressing", "InProgress"),
          "succeeded", List.of("Healthy", "Current"),
          "failed", List.of("Degraded", "Failed"),
          "invalid", List.of("Degraded", "Failed"),
          "cancelled", List.of("Degraded", "Failed"));
      for (Map.Entry<String, String> e : captured.entrySet()) {
        String json = e.getValue();
        Verdict argo = HealthJudges.argo(json);
        Verdict kstatus = HealthJudges.kstatus(json);
        assertThat(List.of(argo.status(), kstatus.status())).as("%s: argo %s, kstatus %s", e.getKey(), argo, kstatus)
            .isEqualTo(expected.get(e.getKey()));
        assertThat(argo.message()).as(e.getKey()).startsWith(condition(json, "Succeeded").path("reason").asText()
            + ": ");
        assertNotStale(json);
      }
      assertThat(condition(captured.get("cancelled"), "Stalled").path("status").asText()).isEqualTo("True");
      assertThat(HealthJudges.kstatus(captured.get("failed")).message())
          .isEqualTo("step 'build' (1/1) failed with exit code 3");
    } finally {
      watch.close();
    }
  }

  /**
   * Re-applying the manifest of a job that ended (server-side, then client-side as Argo CD does by default) changes
   * nothing: no new launch, generation and every observedGeneration stay, both judges still say done. A changed step
   * is refused naming the field; spec.cancel is accepted and leaves the outcome as it was, at the new generation.
   */
  @Test
  void reapplyingAnEndedJobRunsNothingAgain() throws Exception {
    String manifest = JOB.formatted("once", "'echo once'", "");
    apply(manifest).orThrow();
    // what docs/operations.md offers for "wait until it ended, either way"
    server.kubectl("wait", "-n", ns, "nixekjob/once", "--for=condition=Reconciling=false", "--timeout=180s")
        .orThrow();
    assertThat(condition(get("once"), "Succeeded").path("status").asText()).isEqualTo("True");
    String done = awaitReason("once", "Succeeded");
    assertThat(launches("once")).isEqualTo(1);

    apply(manifest).orThrow();
    server.kubectlWithInput(manifest, "apply", "-n", ns, "-f", "-").orThrow();
    Thread.sleep(3000); // three poll intervals of the operator: time enough to (wrongly) launch again
    String again = get("once");
    assertThat(launches("once")).as("launches after re-applying").isEqualTo(1);
    assertThat(JSON.readTree(again).path("metadata").path("generation").asLong()).isEqualTo(1L);
    assertNotStale(again);
    assertThat(condition(again, "Succeeded").path("lastTransitionTime"))
        .isEqualTo(condition(done, "Succeeded").path("lastTransitionTime"));
    assertThat(HealthJudges.argo(again).status()).isEqualTo("Healthy");
    assertThat(HealthJudges.kstatus(again).status()).isEqualTo("Current");

    CommandResult changed = apply(JOB.formatted("once", "'echo twice'", ""));
    assertThat(changed.exitCode()).isNotZero();
    assertThat(changed.stderr()).contains("spec.steps: Invalid value")
        .contains("spec.steps is immutable: a job runs once, as it was created, and only spec.cancel may change");

    apply(JOB.formatted("once", "'echo once'", "  cancel: true")).orThrow();
    await().atMost(WAIT).until(() -> JSON.readTree(get("once")).path("status").path("observedGeneration")
        .asLong() == 2L);
    String cancelled = get("once");
    assertNotStale(cancelled);
    assertThat(condition(cancelled, "Succeeded").path("reason").asText()).as("the outcome stays").isEqualTo(
        "Succeeded");
    assertThat(HealthJudges.kstatus(cancelled).status()).isEqualTo("Current");
    assertThat(launches("once")).isEqualTo(1);
  }

  /** examples/gitops/run-again-job.yaml, created twice with kubectl create: two jobs, two launches, both succeed. */
  @Test
  void theRunAgainExampleMakesANewJobEachTime() throws Exception {
    Path example = ManifestsIT.HOME.resolve("examples/gitops/run-again-job.yaml");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      CommandResult r = server.kubectl("create", "-n", ns, "-f", example.toString(), "-o", "name").orThrow();
      names.add(r.stdout().strip().replaceFirst("^.*/", ""));
    }
    assertThat(names).doesNotHaveDuplicates().allMatch(n -> n.startsWith("run-again-"));
    for (String name : names) {
      awaitReason(name, "Succeeded");
      assertThat(launches(name)).as(name).isEqualTo(1);
    }
    try (Stream<Path> machines = Files.list(stack.work().resolve("machines"))) {
      assertThat(machines.toList()).as("local machines launched").hasSize(2);
    }
  }

  private CommandResult apply(String yaml) {
    return server.kubectlWithInput(yaml, "apply", "--server-side", "-n", ns, "-f", "-");
  }

  private String get(String name) {
    return server.kubectl("get", "-n", ns, "nixekjob", name, "-o", "json").orThrow().stdout();
  }

  /** The job's JSON once its Succeeded condition has {@code reason} (fails on another terminal reason). */
  private String awaitReason(String name, String reason) {
    return await().atMost(WAIT).until(() -> {
      NixekJob j = client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
      Optional<Condition> c = Conditions.find(j == null || j.getStatus() == null ? null : j.getStatus().conditions,
          Conditions.SUCCEEDED);
      if (c.isPresent() && !reason.equals(c.get().getReason()) && !"Unknown".equals(c.get().getStatus())) {
        throw new AssertionError(name + " ended " + c.get().getReason() + ": " + c.get().getMessage());
      }
      return c.isPresent() && reason.equals(c.get().getReason()) ? get(name) : null;
    }, json -> json != null && reason.equals(condition(json, "Succeeded").path("reason").asText()));
  }

  private static Optional<String> firstWithReason(List<String> watched, String name, String reason) {
    return watched.stream()
        .filter(json -> name.equals(tree(json).path("metadata").path("name").asText()))
        .filter(json -> reason.equals(condition(json, "Succeeded").path("reason").asText()))
        .findFirst();
  }

  /** Launched Events of the job (each launch records one). */
  private long launches(String name) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && "Launched".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum();
  }

  /** status.observedGeneration and every condition's observedGeneration are the object's generation. */
  private static void assertNotStale(String json) {
    JsonNode o = tree(json);
    long generation = o.path("metadata").path("generation").asLong();
    assertThat(o.path("status").path("observedGeneration").asLong()).as(json).isEqualTo(generation);
    List<String> types = new ArrayList<>();
    for (JsonNode c : o.path("status").path("conditions")) {
      types.add(c.path("type").asText());
      assertThat(c.path("observedGeneration").asLong()).as("%s of %s", c.path("type"), json).isEqualTo(generation);
    }
    assertThat(types).containsExactly("Ready", "Reconciling", "Stalled", "Succeeded");
  }

  private static JsonNode condition(String json, String type) {
    for (JsonNode c : tree(json).path("status").path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return JSON.missingNode();
  }

  private static JsonNode tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
