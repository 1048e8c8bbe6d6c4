package dev.nixek.ci.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.operator.Main;
import dev.nixek.ci.operator.Seams;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart on a real kube-apiserver: {@code helm install} creates every object it renders (the CRDs from
 * {@code crds/} included), and the operator and the report API then run with the chart's ServiceAccount tokens —
 * not the admin's — and the chart's configuration, until a job completes end to end: with the report API's own
 * ServiceAccount and namespaced RBAC, and as a sidecar sharing the operator's ServiceAccount with cluster-wide RBAC.
 * Two operator replicas elect one leader; the other takes over when it stops.
 *
 * <p>The server runs with the {@code OwnerReferencesPermissionEnforcement} admission plugin (OpenShift enables it):
 * the chart must not depend on its absence.
 */
class HelmChartE2E {
  private static KubeApiServer kube;
  @TempDir
  static Path work;

  @BeforeAll
  static void startServer() {
    kube = KubeApiServer.builder()
        .apiServerArg("--enable-admission-plugins=OwnerReferencesPermissionEnforcement").start();
  }

  @AfterAll
  static void stopServer() {
    if (kube != null) {
      kube.close();
    }
  }

  @Test
  void helmInstallCreatesEveryObjectItRendersAndTheCrds() throws Exception {
    ChartInstall chart = ChartInstall.install(kube, work, "objects", "deployment", true, null);
    for (String crd : List.of("nixekjobs.ci.nixek.dev", "nixekmachineimages.ci.nixek.dev",
        "nixekrepositories.ci.nixek.dev")) {
      var c = kube.client().apiextensions().v1().customResourceDefinitions().withName(crd).get();
      assertThat(c).as(crd).isNotNull();
      assertThat(c.getStatus().getConditions()).anySatisfy(cond -> {
        assertThat(cond.getType()).isEqualTo("Established");
        assertThat(cond.getStatus()).isEqualTo("True");
      });
    }
    Rendered rendered = chart.rendered();
    String ns = chart.namespace();
    String jobs = chart.jobsNamespace();
    assertThat(rendered.names()).containsExactlyInAnyOrder(
        "ServiceAccount/" + ns + "/objects-nixek-ci-operator", "ServiceAccount/" + ns + "/objects-nixek-ci-report-api",
        "ServiceAccount/" + jobs + "/objects-nixek-ci-builder",
        "ClusterRole/objects-nixek-ci-operator", "ClusterRole/objects-nixek-ci-report-api",
        "ClusterRoleBinding/objects-nixek-ci-report-api-auth-delegator", "ClusterRole/objects-nixek-ci-view",
        "Role/" + ns + "/objects-nixek-ci-operator", "RoleBinding/" + ns + "/objects-nixek-ci-operator-own-namespace",
        // the report API's one Secret right: the seal key, by name (docs/secrets.md#the-seal-key)
        "Role/" + ns + "/objects-nixek-ci-report-api", "RoleBinding/" + ns + "/objects-nixek-ci-report-api-own-namespace",
        "RoleBinding/" + jobs + "/objects-nixek-ci-operator", "RoleBinding/" + jobs + "/objects-nixek-ci-report-api",
        "Service/" + ns + "/objects-nixek-ci-report-api", "NetworkPolicy/" + jobs + "/objects-nixek-ci-nix-pods",
        "Deployment/" + ns + "/objects-nixek-ci-operator", "Deployment/" + ns + "/objects-nixek-ci-report-api");
    for (HasMetadata o : rendered.objects()) {
      var kind = kube.client().genericKubernetesResources(o.getApiVersion(), o.getKind());
      GenericKubernetesResource found = o.getMetadata().getNamespace() == null
          ? kind.withName(o.getMetadata().getName()).get()
          : kind.inNamespace(o.getMetadata().getNamespace()).withName(o.getMetadata().getName()).get();
      assertThat(found).as(Rendered.key(o)).isNotNull();
      assertThat(found.getMetadata().getLabels()).as(Rendered.key(o))
          .containsEntry("app.kubernetes.io/managed-by", "Helm").containsEntry("app.kubernetes.io/instance", "objects");
    }
    CommandResult status = kube.helm("status", "objects", "--namespace", chart.namespace());
    assertThat(status.stdout()).contains("STATUS: deployed")
        .contains("Jobs run in the namespaces " + chart.jobsNamespace() + ";")
        .doesNotContain("WARNING").doesNotContain("sidecar");
  }

  /** What a production installation on EKS renders is accepted by the API server (server-side dry run). */
  @Test
  void theFullValuesRenderObjectsTheApiServerAccepts() throws Exception {
    String ns = kube.createUniqueNamespace("full");
    kube.createNamespace("team-a");
    kube.createNamespace("team-b");
    Path values = Helm.valuesFile(work, "full-values.yaml");
    CommandResult rendered = Helm.locate(work.resolve("helm-full"))
        .run("template", "nixek-ci", Helm.CHART.toString(), "--namespace", ns, "--values", values.toString())
        .orThrow();
    // the ServiceMonitor's CRD is the Prometheus Operator's, which this API server does not serve: it is checked by
    // ChartTemplateTest; every other object goes to the API server
    java.util.List<String> docs = java.util.Arrays.stream(rendered.stdout().split("(?m)^---\\s*$"))
        .filter(d -> !d.contains("kind: ServiceMonitor")).toList();
    assertThat(docs.size()).as("documents besides the ServiceMonitor")
        .isLessThan(rendered.stdout().split("(?m)^---\\s*$").length);
    CommandResult dryRun = kube.kubectlWithInput(String.join("\n---\n", docs), "apply", "--dry-run=server", "-f",
        "-");
    assertThat(dryRun.exitCode()).as(dryRun.describe()).isZero();
    assertThat(dryRun.stdout()).contains("deployment.apps/ci-report-api created (server dry run)");
    // the nix pods' NetworkPolicy of each watched namespace, with its link-local except, as the API server has it
    assertThat(dryRun.stdout()).contains("networkpolicy.networking.k8s.io/ci-nix-pods created (server dry run)");
  }

  @Test
  void aJobCompletesWithTheChartsServiceAccountsTheReportApiHavingItsOwn() throws Exception {
    ChartInstall chart = ChartInstall.install(kube, work, "own", "deployment", true, null);
    try (Stack stack = chart.start(null, Map.of())) {
      assertThat(chart.reportApiServiceAccount()).isNotEqualTo(chart.operatorServiceAccount());
      assertReady(stack, chart);
      NixekJob done = runHello(chart);
      assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
      // both writers' field managers, each from its own ServiceAccount's process
      String managed = kube.kubectl("get", "nixekjob", "hello", "-n", chart.jobsNamespace(),
          "--show-managed-fields", "-o", "yaml").stdout();
      assertThat(managed).contains("manager: nixek-operator").contains("manager: nixek-report-api");
      // the operator holds the Lease in its own namespace
      Lease lease = kube.client().leases().inNamespace(chart.namespace()).withName("nixek-operator").get();
      assertThat(lease.getSpec().getHolderIdentity()).isEqualTo("operator-0");
      assertThat(stack.operator().isLeader()).isTrue();
      // nothing beyond what the chart grants: no Secrets outside the watched namespace, no writes for the report API
      KubernetesClient op = chart.operatorClient();
      assertThatThrownBy(() -> op.secrets().inNamespace("default").list())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
      String reportKubeconfig = "--kubeconfig=" + kube.kubeconfigFor(chart.namespace(), chart.reportApiServiceAccount());
      for (String verb : List.of("create", "update", "delete")) {
        CommandResult canI = kube.kubectl(reportKubeconfig, "auth", "can-i", verb, "secrets", "-n",
            chart.jobsNamespace());
        assertThat(canI.stdout().trim()).as("report API may %s secrets", verb).isEqualTo("no");
      }
      assertThat(kube.kubectl(reportKubeconfig, "auth", "can-i", "patch", "nixekjobs.ci.nixek.dev", "-n",
          chart.jobsNamespace()).stdout().trim()).as("report API may patch job specs").isEqualTo("no");
      // the logs endpoint asks the cluster who a reader is and what it may read (system:auth-delegator)
      for (String review : List.of("tokenreviews.authentication.k8s.io", "subjectaccessreviews.authorization.k8s.io")) {
        assertThat(kube.kubectl(reportKubeconfig, "auth", "can-i", "create", review).stdout().trim())
            .as("report API may create %s", review).isEqualTo("yes");
      }
    }
  }

  @Test
  void aJobCompletesWithTheReportApiAsASidecarSharingTheOperatorsServiceAccountClusterWide() throws Exception {
    ChartInstall chart = ChartInstall.install(kube, work, "side", "sidecar", false, null);
    assertThat(kube.client().resources(ClusterRoleBinding.class).withName("side-nixek-ci-report-api").get()
        .getSubjects().get(0).getName()).isEqualTo("side-nixek-ci-operator");
    try (Stack stack = chart.start(null, Map.of())) {
      assertThat(chart.reportApiServiceAccount()).isEqualTo(chart.operatorServiceAccount());
      assertReady(stack, chart);
      NixekJob done = runHello(chart);
      assertThat(done.getStatus().steps).extracting(s -> s.state).containsOnly(State.Succeeded);
    }
  }

  @Test
  void twoReplicasElectOneLeaderBothAreReadyAndTheStandbyTakesOver() throws Exception {
    // with an image bucket the image collectors are configured too (their first run is an interval away)
    ChartInstall chart = ChartInstall.install(kube, work, "ha", "deployment", true,
        "config:\n  operator:\n    imageBucket: nixek-ci-images\n");
    List<Main.Running> replicas = new ArrayList<>();
    try (Stack stack = chart.start(null, Map.of("NIXEK_LEADER_IDENTITY", "replica-a"))) {
      Map<String, String> envB = new HashMap<>(stack.operatorEnv());
      envB.put("NIXEK_LEADER_IDENTITY", "replica-b");
      envB.put("NIXEK_HEALTH_PORT", "0");
      OperatorConfig configB = OperatorConfig.fromEnv(envB);
      Main.Running b = Main.start(configB, chart.operatorClient(), Seams.production().withOnFatal(() -> { }));
      replicas.add(b);
      Main.Running a = stack.operator();
      await().atMost(Duration.ofSeconds(20)).until(() -> a.isLeader() || b.isLeader());
      Thread.sleep(2000);
      assertThat(a.isLeader() ^ b.isLeader()).as("exactly one leader").isTrue();
      // the standby is ready too: its informers run, only event processing waits for the Lease
      assertThat(httpStatus("http://127.0.0.1:" + a.healthPort() + "/readyz")).isEqualTo(200);
      assertThat(httpStatus("http://127.0.0.1:" + b.healthPort() + "/readyz")).isEqualTo(200);
      String leader = a.isLeader() ? "replica-a" : "replica-b";
      assertThat(kube.client().leases().inNamespace(chart.namespace()).withName("nixek-operator").get().getSpec()
          .getHolderIdentity()).isEqualTo(leader);
      // the collectors run on the leader only
      Main.Running leading = a.isLeader() ? a : b;
      Main.Running standby = a.isLeader() ? b : a;
      assertThat(leading.collector().running()).as("leader's machine collector").isTrue();
      assertThat(leading.images().collector().running()).as("leader's image collectors").isTrue();
      assertThat(standby.collector().running()).as("standby's machine collector").isFalse();
      assertThat(standby.images().collector().running()).as("standby's image collectors").isFalse();

      NixekJob first = runHello(chart);
      assertThat(launchedEvents(chart, first)).as("launched once, by the leader").isEqualTo(1);

      // the leader stops; the standby takes the Lease over and runs the next job
      Main.Running survivor = a.isLeader() ? b : a;
      if (a.isLeader()) {
        stack.stopOperator();
      } else {
        b.close();
        replicas.remove(b);
      }
      await().atMost(Duration.ofSeconds(30)).until(survivor::isLeader);
      await().atMost(Duration.ofSeconds(5)).until(() -> survivor.collector().running()
          && survivor.images().collector().running());
      kube.client().resources(NixekJob.class).inNamespace(chart.jobsNamespace()).withName("hello").delete();
      await().atMost(Duration.ofSeconds(30)).until(() -> kube.client().resources(NixekJob.class)
          .inNamespace(chart.jobsNamespace()).withName("hello").get() == null);
      NixekJob second = runHello(chart);
      assertThat(Conditions.find(second.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow().getStatus())
          .isEqualTo("True");
      assertThat(stack.fatalErrors()).isZero();
    } finally {
      replicas.forEach(Main.Running::close);
    }
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private static void assertReady(Stack stack, ChartInstall chart) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(httpStatus(stack.reportUrl() + "/readyz")).as("report API /readyz").isEqualTo(200);
      assertThat(httpStatus("http://127.0.0.1:" + stack.operator().healthPort() + "/readyz"))
          .as("operator /readyz").isEqualTo(200);
    });
    assertThat(stack.operator().healthPort()).isEqualTo(chart.healthPort());
  }

  /** kubectl-applies examples/hello-job.yaml as a user would and waits until the job ends; it must succeed. */
  static NixekJob runHello(ChartInstall chart) {
    CommandResult applied = chart.kube().kubectl("apply", "--server-side", "-n", chart.jobsNamespace(), "-f",
        Helm.HOME.resolve("examples/hello-job.yaml").toString());
    assertThat(applied.exitCode()).as(applied.describe()).isZero();
    var jobs = chart.kube().client().resources(NixekJob.class).inNamespace(chart.jobsNamespace());
    await().atMost(Duration.ofSeconds(90)).until(() -> {
      NixekJob j = jobs.withName("hello").get();
      return j != null && Conditions.isTerminal(j.getStatus());
    });
    NixekJob done = jobs.withName("hello").get();
    var succeeded = Conditions.find(done.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow();
    assertThat(succeeded.getStatus()).as(succeeded.getMessage()).isEqualTo("True");
    return done;
  }

  private static long launchedEvents(ChartInstall chart, NixekJob job) {
    return chart.kube().client().v1().events().inNamespace(chart.jobsNamespace()).list().getItems().stream()
        .filter(e -> job.getMetadata().getUid().equals(e.getInvolvedObject().getUid())
            && "Launched".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum();
  }

  static int httpStatus(String url) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
