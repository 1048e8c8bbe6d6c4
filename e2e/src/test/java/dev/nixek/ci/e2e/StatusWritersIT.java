package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/architecture.md#who-writes-what on a real API server: the operator (server-side apply of its fields) and the report API (JSON patch of
 * status.steps with a resourceVersion precondition) write the same status at the same time. Every acknowledged
 * report must be in the final status and no operator field may be lost.
 */
@ExtendWith(KubeApiServerExtension.class)
class StatusWritersIT {
  private static final int JOBS = 20;
  private static final int STEPS = 5; // a started and a finished report each: 200 reports

  @TempDir
  Path work;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    ManifestsIT.installCrds(server);
  }

  @Test
  void twoHundredReportsOverTwentyJobsWhileTheOperatorWritesLoseNothing(KubeApiServer server, TestNamespace namespace)
      throws Exception {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    FakeMachineProvider provider = new FakeMachineProvider();
    try (Stack stack = Stack.start(client, server.kubeconfig(), work, true, Map.of("NIXEK_WATCH_NAMESPACES", ns),
        provider)) {
      for (int j = 0; j < JOBS; j++) {
        NixekJobStep[] steps = new NixekJobStep[STEPS];
        for (int s = 0; s < STEPS; s++) {
          steps[s] = run("s" + s, "true");
        }
        client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "job-" + j, steps)).create();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> provider.launched().size() == JOBS);

      // each job's reports in order, the jobs in parallel; every report must be acknowledged with 200
      HttpClient http = HttpClient.newHttpClient();
      ExecutorService pool = Executors.newFixedThreadPool(JOBS);
      AtomicInteger acknowledged = new AtomicInteger();
      List<Future<?>> done = new ArrayList<>();
      for (String machine : provider.launched()) {
        AgentConfig cfg = provider.request(machine).agentConfig();
        done.add(pool.submit(() -> {
          for (int s = 0; s < STEPS; s++) {
            String t = Instant.now().toString();
            post(http, stack.reportUrl(), cfg, s, ReportPaths.STARTED, new StepStarted("s" + s, t));
            acknowledged.incrementAndGet();
            post(http, stack.reportUrl(), cfg, s, ReportPaths.FINISHED, new StepFinished(0, t, 0, false));
            acknowledged.incrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      assertThat(acknowledged).hasValue(2 * JOBS * STEPS);

      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        for (int j = 0; j < JOBS; j++) {
          NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName("job-" + j).get();
          assertThat(Conditions.isTerminal(job.getStatus())).as("job-%d ended", j).isTrue();
        }
      });
      for (int j = 0; j < JOBS; j++) {
        NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName("job-" + j).get();
        NixekJobStatus st = job.getStatus();
        assertThat(st.steps).as("job-%d steps", j).hasSize(STEPS)
            .allSatisfy(s -> {
              assertThat(s.state).isEqualTo(State.Succeeded);
              assertThat(s.startTime).isNotNull();
              assertThat(s.finishTime).isNotNull();
            });
        assertThat(Conditions.find(st.conditions, Conditions.SUCCEEDED).get().getReason()).isEqualTo("Succeeded");
        assertThat(st.instanceId).isNotNull();
        assertThat(st.launchToken).isNotNull();
        assertThat(st.startTime).isNotNull();
        assertThat(st.completionTime).isNotNull();
        assertThat(st.currentStep).isEqualTo(STEPS + "/" + STEPS);
        assertThat(st.machineTerminated).isTrue();
      }
      assertThat(provider.launched()).hasSize(JOBS);
    }
  }

  @Test
  void aConflictingWriteMakesTheStepsWriterRetryOnFreshData(KubeApiServer server, TestNamespace namespace) {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    NixekJob created = client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "race", run("a", "true")))
        .create();
    // the operator's first status write, as server-side apply under its field manager
    operatorApply(client, created, "Launching");

    StepsWriter writer = new StepsWriter(client);
    AtomicInteger calls = new AtomicInteger();
    ReportOutcome outcome = writer.update(ns, "race", job -> {
      if (calls.incrementAndGet() == 1) {
        operatorApply(client, job, "Running"); // lands between the writer's read and its write: a forced 409
      }
      return StepReports.started(job.getSpec().steps, job.getStatus().steps, 0,
          new StepStarted("a", "2026-11-25T10:00:00Z"));
    });
    assertThat(outcome).isInstanceOf(ReportOutcome.Applied.class);
    assertThat(calls).as("the change ran again after the 409").hasValue(2);
    NixekJob after = client.resources(NixekJob.class).inNamespace(ns).withName("race").get();
    assertThat(after.getStatus().steps).extracting(s -> s.state).containsExactly(NixekStepStatus.State.Running);
    assertThat(Conditions.find(after.getStatus().conditions, Conditions.SUCCEEDED).get().getReason())
        .as("the operator's write survived").isEqualTo("Running");
  }

  private static void operatorApply(KubernetesClient client, NixekJob job, String reason) {
    NixekJob fresh = new NixekJob();
    fresh.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName())
        .withNamespace(job.getMetadata().getNamespace()).build());
    NixekJobStatus st = new NixekJobStatus();
    st.conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.UNKNOWN, reason, reason, 1L, Instant.now());
    fresh.setStatus(st);
    PatchContext ssa = new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY).withForce(true)
        .withFieldManager("nixek-operator").build();
    client.resource(fresh).subresource("status").patch(ssa);
  }

  private static void post(HttpClient http, String base, AgentConfig cfg, int step, String what, Object body)
      throws Exception {
    AgentPost.post(http, base, cfg, step, what, body);
  }
}
