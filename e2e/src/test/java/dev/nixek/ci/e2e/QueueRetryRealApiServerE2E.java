package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.api.model.Condition;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Queues and retries on the real kube-apiserver (server-side apply on) with the report API as its own process and
 * the local provider running the real agent: a machine's agent process is what runs, and what a test kills.
 */
class QueueRetryRealApiServerE2E extends RealApiServerStackTier {
  @Override
  Map<String, String> stackEnv() {
    return Map.of("NIXEK_MAX_RUNNING_JOBS_PER_NAMESPACE", "2");
  }

  @Test
  void aKilledMachineWithOneRetryRunsAgainFromTheFirstStepAndTheOldTokenIsRefused() throws Exception {
    NixekJob j = job(ns, "flaky", run("first", "echo first; sleep 4"), run("second", "echo second"));
    j.getSpec().retries = 1;
    client.resources(NixekJob.class).inNamespace(ns).resource(j).create();
    awaitFirstStepRunning("flaky", 1);
    String firstMachine = get("flaky").getStatus().instanceId;
    Path firstDir = stack.work().resolve("machines").resolve(firstMachine);
    AgentConfig oldConfig = Json.mapper().readValue(Files.readAllBytes(firstDir.resolve("config.json")),
        AgentConfig.class);
    agents(firstDir).forEach(ProcessHandle::destroyForcibly);

    awaitFirstStepRunning("flaky", 2);
    NixekJob second = get("flaky");
    assertThat(second.getStatus().instanceId).isNotEqualTo(firstMachine);
    assertThat(second.getStatus().attempts).extracting(a -> a.attempt, a -> a.reason, a -> a.instanceId)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1, "InstanceLost", firstMachine));
    // the old agent's token, while the new attempt runs: refused (its record was replaced)
    HttpResponse<String> old = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(stack.reportUrl()
            + ReportPaths.step(ns, "flaky", 1, "started")))
        .header("Authorization", "Bearer " + oldConfig.token())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(
            new StepStarted("second", Instant.now().toString()))))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(old.statusCode()).as(old.body()).isEqualTo(401);

    NixekJob done = awaitTerminal("flaky");
    assertThat(succeeded(done).getReason()).as(succeeded(done).getMessage()).isEqualTo("Succeeded");
    assertThat(done.getStatus().attempt).isEqualTo(2);
    assertThat(done.getStatus().steps).extracting(s -> s.state).containsExactly(State.Succeeded, State.Succeeded);
    assertThat(done.getStatus().steps.get(0).outputTail).isEqualTo("first\n");
    try (var machines = Files.list(stack.work().resolve("machines"))) {
      assertThat(machines.toList()).as("one machine per attempt").hasSize(2);
    }
  }

  @Test
  void limitTwoFourJobsNeverMoreThanTwoAgentsAndAllSucceedInCreationOrder() throws Exception {
    Path machines = stack.work().resolve("machines");
    AtomicInteger most = new AtomicInteger();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        most.accumulateAndGet(agents(machines).size(), Math::max);
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.start();
    List<String> names = List.of("q1", "q2", "q3", "q4");
    try {
      for (String name : names) {
        client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, name, run("work", "sleep 2"))).create();
      }
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        Condition c = Conditions.find(get("q4").getStatus() == null ? null : get("q4").getStatus().conditions,
            Conditions.SUCCEEDED).orElse(null);
        assertThat(c).isNotNull();
        assertThat(c.getReason()).isEqualTo("Queued");
        assertThat(c.getMessage()).startsWith("position ").endsWith(" in namespace " + ns
            + " (at most 2 running at once)");
      });
      for (String name : names) {
        NixekJob done = awaitTerminal(name);
        assertThat(succeeded(done).getReason()).as(name + ": " + succeeded(done).getMessage()).isEqualTo("Succeeded");
      }
    } finally {
      sampling.set(false);
      sampler.join();
    }
    assertThat(most.get()).as("agents running at once").isBetween(1, 2);
    List<String> byStart = new ArrayList<>(names);
    byStart.sort((a, b) -> Instant.parse(get(a).getStatus().startTime)
        .compareTo(Instant.parse(get(b).getStatus().startTime)));
    // q1 and q2 start together; q3 and q4 only as they end, in creation order
    assertThat(byStart.subList(2, 4)).containsExactly("q3", "q4");
    Instant firstEnd = java.util.stream.Stream.of("q1", "q2").map(n -> Instant.parse(get(n).getStatus().completionTime))
        .min(Instant::compareTo).orElseThrow();
    // whole seconds on both sides: "not before the first end" within a second
    assertThat(Instant.parse(get("q3").getStatus().startTime)).isAfterOrEqualTo(firstEnd.minusSeconds(1));
  }

  /** The agent processes of the machines under {@code dir} (a machine's directory, or all of them). */
  private static List<ProcessHandle> agents(Path dir) {
    String prefix = dir.toString();
    return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
        .filter(h -> h.info().arguments().map(a -> List.of(a).stream().anyMatch(x -> x.startsWith(prefix)))
            .orElse(false))
        .toList();
  }

  private void awaitFirstStepRunning(String name, int attempt) {
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      NixekJob j = get(name);
      return j.getStatus() != null && Integer.valueOf(attempt).equals(j.getStatus().attempt)
          && j.getStatus().steps != null && j.getStatus().steps.get(0).state == State.Running;
    });
  }

  private NixekJob get(String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private NixekJob awaitTerminal(String name) {
    await().atMost(Duration.ofSeconds(120)).until(() -> get(name) != null
        && Conditions.isTerminal(get(name).getStatus()));
    return get(name);
  }

  private static Condition succeeded(NixekJob j) {
    return Conditions.find(j.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
