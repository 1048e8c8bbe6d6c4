package dev.nixek.ci.e2e;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepStarted;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/security.md#text-hygiene on a real API server with the real kubectl: a step's output with ANSI sequences, C1
 * and DEL is stored escaped through the report API, so {@code kubectl describe} prints nothing a terminal acts on and
 * {@code kubectl get nixekjobs -o yaml} keeps working for the whole list. The raw form breaks that listing, which
 * is what the report API used to store.
 */
@ExtendWith(KubeApiServerExtension.class)
class HostileOutputIT {
  private static final String HOSTILE = "\u001b]0;pwned\u0007\u001b[2J\u001b[31mred\u001b[0m \u009b1m DEL:\u007f\n";

  @TempDir
  Path work;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    ManifestsIT.installCrds(server);
  }

  @Test
  void outputWithControlCharactersKeepsEveryJobReadableByKubectl(KubeApiServer server, TestNamespace namespace)
      throws Exception {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    FakeMachineProvider provider = new FakeMachineProvider();
    try (Stack stack = Stack.start(client, server.kubeconfig(), work, true, Map.of("NIXEK_WATCH_NAMESPACES", ns),
        provider)) {
      client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "hostile", run("build", "true"))).create();
      client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "bystander", run("build", "true"))).create();
      await().atMost(Duration.ofSeconds(60)).until(() -> provider.launched().size() == 2);
      AgentConfig cfg = provider.launched().stream().map(m -> provider.request(m).agentConfig())
          .filter(c -> c.name().equals("hostile")).findFirst().orElseThrow();

      HttpClient http = HttpClient.newHttpClient();
      post(http, stack.reportUrl(), cfg, ReportPaths.STARTED, new StepStarted("build", Instant.now().toString()));
      byte[] data = HOSTILE.getBytes(StandardCharsets.UTF_8);
      post(http, stack.reportUrl(), cfg, ReportPaths.OUTPUT,
          new OutputChunk(0, 0, Base64.getEncoder().encodeToString(data)));

      // the tail is written by the report API's flusher, within NIXEK_REPORT_STATUS_INTERVAL_MILLIS (1 s)
      await().atMost(Duration.ofSeconds(10)).until(() -> client.resources(NixekJob.class).inNamespace(ns)
          .withName("hostile").get().getStatus().steps.get(0).outputTail != null);
      NixekJob stored = client.resources(NixekJob.class).inNamespace(ns).withName("hostile").get();
      assertThat(stored.getStatus().steps.get(0).outputTail)
          .isEqualTo("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x1b[0m \\u009b1m DEL:\\x7f\n");

      CommandResult yaml = server.kubectl("get", "nixekjobs", "-n", ns, "-o", "yaml");
      assertThat(yaml.exitCode()).as(yaml.describe()).isZero();
      assertThat(yaml.stdout()).contains("name: bystander").contains("name: hostile").contains("DEL:");
      CommandResult describe = server.kubectl("describe", "nixekjob", "hostile", "-n", ns);
      assertThat(describe.exitCode()).as(describe.describe()).isZero();
      assertThat(describe.stdout()).contains("pwned").doesNotContain("\u001b").doesNotContain("\u009b")
          .doesNotContain("\u0007").doesNotContain("\u007f");
    }
  }

  /** The control: the same bytes stored raw (as the report API used to) break the listing of every job. */
  @Test
  void aRawDelInOneJobsStatusBreaksKubectlGetForTheWholeList(KubeApiServer server, TestNamespace namespace) {
    KubernetesClient client = server.client();
    String ns = namespace.name();
    client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "raw", run("build", "true"))).create();
    client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, "bystander", run("build", "true"))).create();
    client.resources(NixekJob.class).inNamespace(ns).withName("raw").editStatus(j -> {
      NixekStepStatus step = new NixekStepStatus();
      step.name = "build";
      step.state = NixekStepStatus.State.Running;
      step.outputTail = HOSTILE;
      j.setStatus(new NixekJobStatus());
      j.getStatus().steps = List.of(step);
      return j;
    });

    CommandResult yaml = server.kubectl("get", "nixekjobs", "-n", ns, "-o", "yaml");
    assertThat(yaml.exitCode()).as(yaml.describe()).isNotZero();
    assertThat(yaml.stderr()).contains("control characters are not allowed");
  }

  private static void post(HttpClient http, String base, AgentConfig cfg, String what, Object body) throws Exception {
    AgentPost.post(http, base, cfg, 0, what, body);
  }
}
