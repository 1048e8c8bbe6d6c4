package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.ReportApiProcess;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An evaluation pod the real kube-apiserver refuses, on the real-apiserver tier (test kubelet, real builder jar and
 * nix, report API process): the job says why, with the API server's words, and goes on by itself once the cause is
 * gone. The refusal is a ResourceQuota of zero pods, enforced by the ResourceQuota admission plugin (on by default);
 * the harness runs kube-apiserver without the ServiceAccount admission plugin (it has no controller-manager to make
 * {@code default} ServiceAccounts), so the missing-ServiceAccount refusal itself cannot be shown here —
 * {@code JobEvaluationMockIT} has it, with the API server's message as a real one words it.
 */
class EvaluationStartIT extends RealApiServerTier {
  private ReportApiProcess reportApi;

  @AfterEach
  void stopReportApi() throws Exception {
    if (reportApi != null) {
      reportApi.close();
    }
  }

  @Test
  void aRefusedEvaluationPodSaysWhyAndTheJobGoesOnOnceTheCauseIsGone() throws Exception {
    // the quota controller (controller-manager) is not running: the test writes the usage it would have written
    ResourceQuota quota = client.resourceQuotas().inNamespace(ns).resource(new ResourceQuotaBuilder()
        .withNewMetadata().withName("no-pods").endMetadata()
        .withNewSpec().addToHard("pods", new Quantity("0")).endSpec().build()).create();
    quota.setStatus(new io.fabric8.kubernetes.api.model.ResourceQuotaStatusBuilder()
        .addToHard("pods", new Quantity("0")).addToUsed("pods", new Quantity("0")).build());
    client.resourceQuotas().inNamespace(ns).resource(quota).updateStatus();

    reportApi = ReportApiProcess.start(server.kubeconfig(), ns, work.resolve("report-api.log"));
    FakeMachineProvider machines = new FakeMachineProvider();
    operator.close();
    operator = new ImageOperator(client, env, ns, Map.of("NIXEK_REPORT_URL", reportApi.url()), machines).start();

    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("quota").build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = "{ steps = [ { name = \"hello\"; command = [ \"echo\" \"hi\" ]; } ]; }";
    String uid = client.resource(job).create().getMetadata().getUid();
    String pod = "nixek-eval-" + uid;

    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(succeeded().getReason())
        .as(succeeded().getMessage()).isEqualTo("EvaluationPending"));
    String message = succeeded().getMessage();
    assertThat(message).isEqualTo("the evaluation pod " + pod + " cannot be created: pods \"" + pod + "\" is "
        + "forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0");
    assertThat(succeeded().getStatus()).isEqualTo("Unknown");
    await().untilAsserted(() -> assertThat(events()).anySatisfy(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getReason()).isEqualTo("EvaluationPending");
      assertThat(e.getMessage()).isEqualTo(message);
    }));
    assertThat(client.pods().inNamespace(ns).withName(pod).get()).isNull();

    // the cause goes; nothing is done to the job: the operator's next attempt creates the pod and the job runs
    client.resourceQuotas().inNamespace(ns).withName("no-pods").delete();
    await().atMost(Duration.ofSeconds(120)).until(() -> machines.launched().size() == 1
        || Conditions.isTerminal(client.resources(NixekJob.class).inNamespace(ns).withName("quota").get()
            .getStatus()));
    NixekJob launched = client.resources(NixekJob.class).inNamespace(ns).withName("quota").get();
    assertThat(launched.getStatus().evaluation).as("%s", launched.getStatus().conditions).isNotNull();
    assertThat(launched.getStatus().evaluation.steps).extracting(s -> s.name).containsExactly("hello");
    assertThat(machines.launched()).hasSize(1);
    assertThat(kubelet.started()).containsExactly(pod);
    // the Launched Event follows the provider's call, once the machine's id is recorded
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(events()).extracting(Event::getReason)
        .contains("EvaluationPending", "EvaluationStarted", "Evaluated", "Launched"));
  }

  private Condition succeeded() {
    NixekJob job = client.resources(NixekJob.class).inNamespace(ns).withName("quota").get();
    assertThat(job.getStatus()).isNotNull();
    return Conditions.find(job.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
  }

  private List<Event> events() {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> "quota".equals(e.getInvolvedObject().getName())).toList();
  }
}
