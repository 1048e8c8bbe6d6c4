package dev.nixek.ci.e2e.chart;

import static dev.nixek.ci.e2e.chart.Rendered.container;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.nixek.ci.e2e.chart.ExpectedRbac.Rule;
import dev.nixek.ci.e2e.chart.ExpectedRbac.Scope;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.report.ReportApiConfig;
import dev.nixek.ci.testing.kube.CommandResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code helm lint} and {@code helm template} of the chart with its default values and with a full set, the output
 * parsed and checked property by property: secure pods, probes, the two containers from one image, the
 * configuration (read back with the programs' own parsers), the Service, the ServiceAccounts, and RBAC rules equal
 * to {@link ExpectedRbac}. Needs the helm binary (skipped without it, failing under {@code CI=true}).
 */
class ChartTemplateTest {
  static final String NS = "nixek-system";
  static final String POD = "nixek-ci-operator-5d9c8-x2x7q";

  @TempDir
  Path tmp;
  private Helm helm;
  private Path full;

  @BeforeEach
  void setUp() {
    helm = Helm.locate(tmp.resolve("helm"));
    full = Helm.valuesFile(tmp, "full-values.yaml");
  }

  @Test
  void lintPassesStrictlyWithDefaultAndFullValues() {
    CommandResult defaults = helm.run("lint", "--strict", Helm.CHART.toString());
    assertThat(defaults.exitCode()).as(defaults.describe()).isZero();
    CommandResult fullSet = helm.run("lint", "--strict", Helm.CHART.toString(), "--values", full.toString());
    assertThat(fullSet.exitCode()).as(fullSet.describe()).isZero();
  }

  /**
   * Safe defaults: the report API (the one process taking requests from outside the cluster) in its own Deployment
   * with its own ServiceAccount, every binding in the release namespace only, and an operator that refuses to start
   * with provider ec2 until it has a cluster id and an https report URL.
   */
  @Test
  void defaultValuesRenderTheReportApiAsItsOwnDeploymentAndNoClusterWideBinding() {
    Rendered r = helm.template("nixek-ci", NS, List.of());
    assertThat(r.names()).containsExactlyInAnyOrder(
        "ServiceAccount/" + NS + "/nixek-ci-operator", "ServiceAccount/" + NS + "/nixek-ci-report-api",
        "ServiceAccount/" + NS + "/nixek-ci-builder",
        "ClusterRole/nixek-ci-operator", "RoleBinding/" + NS + "/nixek-ci-operator",
        "Role/" + NS + "/nixek-ci-operator", "RoleBinding/" + NS + "/nixek-ci-operator-own-namespace",
        "ClusterRole/nixek-ci-report-api", "RoleBinding/" + NS + "/nixek-ci-report-api",
        "Role/" + NS + "/nixek-ci-report-api", "RoleBinding/" + NS + "/nixek-ci-report-api-own-namespace",
        "ClusterRoleBinding/nixek-ci-report-api-auth-delegator", "ClusterRole/nixek-ci-view",
        "Service/" + NS + "/nixek-ci-report-api", "NetworkPolicy/" + NS + "/nixek-ci-nix-pods",
        "Deployment/" + NS + "/nixek-ci-operator", "Deployment/" + NS + "/nixek-ci-report-api");
    // the one cluster-wide binding: TokenReview and SubjectAccessReview for the logs endpoint, nothing else
    assertThat(r.all(ClusterRoleBinding.class)).as("cluster-wide bindings").singleElement().satisfies(b -> {
      assertThat(b.getRoleRef().getName()).isEqualTo("system:auth-delegator");
      assertThat(b.getSubjects()).extracting(Subject::getName, Subject::getNamespace)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("nixek-ci-report-api", NS));
    });
    assertThat(r.get(ClusterRole.class, "nixek-ci-view").getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-view", "true");
    assertThat(r.get(ClusterRole.class, "nixek-ci-view").getRules())
        .anySatisfy(p -> {
          assertThat(p.getResources()).containsExactly("nixekjobs/log", "nixekjobs/artifacts");
          assertThat(p.getVerbs()).containsExactly("get");
        });
    Deployment d = r.get(Deployment.class, "nixek-ci-operator");
    Deployment api = r.get(Deployment.class, "nixek-ci-report-api");
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(api.getSpec().getReplicas()).isEqualTo(2);
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    PodSpec apiPod = api.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("nixek-ci-operator");
    assertThat(apiPod.getServiceAccountName()).isEqualTo("nixek-ci-report-api");
    assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("operator");
    assertThat(apiPod.getContainers()).extracting(Container::getName).containsExactly("report-api");
    assertThat(Stream.concat(pod.getContainers().stream(), apiPod.getContainers().stream()))
        .extracting(Container::getImage).containsOnly("ghcr.io/nixek/nixek-ci:0.1.0");
    assertThat(container(d, "operator").getArgs()).containsExactly("operator");
    assertThat(container(api, "report-api").getArgs()).containsExactly("report-api");
    assertSecure(pod);
    assertSecure(apiPod);
    assertProbes(container(d, "operator"), "health", 8081, "NIXEK_HEALTH_PORT");
    assertProbes(container(api, "report-api"), "http", 8080, "NIXEK_REPORT_PORT");
    assertThat(container(d, "operator").getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(container(d, "operator").getResources().getLimits()).containsKey("memory");
    assertThat(container(api, "report-api").getResources().getRequests()).containsKeys("cpu", "memory");

    // the configuration, read back by the programs' own parsers: provider ec2 is refused until the installer
    // names the installation and gives the https URL job machines reach
    Map<String, String> env = new java.util.HashMap<>(Rendered.env(container(d, "operator"), fields()));
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> OperatorConfig.fromEnv(env)))
        .hasMessageStartingWith("NIXEK_CLUSTER_ID is required with NIXEK_PROVIDER=ec2");
    env.put("NIXEK_CLUSTER_ID", "prod");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> OperatorConfig.fromEnv(env)))
        .hasMessageStartingWith("NIXEK_REPORT_URL=http://nixek-ci-report-api." + NS + ".svc:8080: an http URL");
    env.put("NIXEK_ALLOW_INSECURE_REPORT_URL", "true");
    OperatorConfig op = OperatorConfig.fromEnv(env);
    assertThat(op.provider()).isEqualTo(OperatorConfig.Provider.EC2);
    assertThat(op.operatorNamespace()).isEqualTo(NS);
    assertThat(op.reportUrl()).hasToString("http://nixek-ci-report-api." + NS + ".svc:8080");
    assertThat(op.watchNamespaces()).as("the release namespace only").containsExactly(NS);
    assertThat(op.healthPort()).isEqualTo(8081);
    assertThat(op.leaderElection().enabled()).isTrue();
    assertThat(op.leaderElection().identity()).isEqualTo(POD);
    assertThat(op.leaderElection().leaseName()).isEqualTo("nixek-operator");
    assertThat(op.tokenKeySecret()).isEqualTo("nixek-ci-token-key");
    assertThat(op.useSsa()).isTrue();
    assertThat(op.limits().allowedInstanceTypes()).isEmpty();
    assertThat(op.limits().maxJobTimeout()).isEqualTo(Duration.ofDays(1));
    // builder pods: the chart's image, run through its entrypoint, as the builder ServiceAccount the chart creates
    assertThat(op.images().builderImage()).isEqualTo("ghcr.io/nixek/nixek-ci:0.1.0");
    assertThat(op.images().builderCommand()).containsExactly("/opt/nixek/bin/nixek", "builder");
    assertThat(op.images().builderServiceAccount()).isEqualTo("nixek-ci-builder");
    assertThat(r.get(ServiceAccount.class, "nixek-ci-builder").getAutomountServiceAccountToken()).isFalse();
    ReportApiConfig report = ReportApiConfig.fromEnv(Rendered.env(container(api, "report-api"), fields()));
    assertThat(report.port()).isEqualTo(8080);
    assertThat(report.watchNamespaces()).containsExactly(NS);
    // the report API gets the report API's options only
    assertThat(Rendered.env(container(api, "report-api"), fields())).doesNotContainKeys("NIXEK_PROVIDER",
        "NIXEK_REPORT_URL", "NIXEK_LEADER_ELECTION");

    Service svc = r.get(Service.class, "nixek-ci-report-api");
    assertThat(svc.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(8080);
      assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
    });
    assertThat(api.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .as("reports must not go to operator pods").doesNotContainKey("ci.nixek.dev/report-api");

    // RBAC: exactly the expected rules, each role bound to its own ServiceAccount in the release namespace
    assertThat(rules(r, "nixek-ci")).containsExactlyElementsOf(
        withoutReasons(ExpectedRbac.rules("nixek-ci-token-key", "nixek-operator")));
    assertThat(binding(r, NS, "nixek-ci-operator"))
        .isEqualTo("ClusterRole/nixek-ci-operator -> " + NS + "/nixek-ci-operator");
    assertThat(binding(r, NS, "nixek-ci-report-api"))
        .isEqualTo("ClusterRole/nixek-ci-report-api -> " + NS + "/nixek-ci-report-api");
    assertThat(binding(r, NS, "nixek-ci-operator-own-namespace"))
        .isEqualTo("Role/nixek-ci-operator -> " + NS + "/nixek-ci-operator");
  }

  /** The two choices that widen what the chart grants exist, each only as an explicit value. */
  @Test
  void clusterWideBindingsAndTheSidecarTakeAnExplicitValueEach() {
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "config.watchAllNamespaces=true",
        "--set", "reportApi.mode=sidecar");
    assertThat(r.names()).containsExactlyInAnyOrder(
        "ServiceAccount/" + NS + "/nixek-ci-operator", "ServiceAccount/" + NS + "/nixek-ci-builder",
        "ClusterRole/nixek-ci-operator", "ClusterRoleBinding/nixek-ci-operator",
        "Role/" + NS + "/nixek-ci-operator", "RoleBinding/" + NS + "/nixek-ci-operator-own-namespace",
        "ClusterRole/nixek-ci-report-api", "ClusterRoleBinding/nixek-ci-report-api",
        "Role/" + NS + "/nixek-ci-report-api", "RoleBinding/" + NS + "/nixek-ci-report-api-own-namespace",
        "ClusterRoleBinding/nixek-ci-report-api-auth-delegator", "ClusterRole/nixek-ci-view",
        "Service/" + NS + "/nixek-ci-report-api", "NetworkPolicy/" + NS + "/nixek-ci-nix-pods",
        "Deployment/" + NS + "/nixek-ci-operator");
    Deployment d = r.get(Deployment.class, "nixek-ci-operator");
    assertThat(d.getSpec().getTemplate().getSpec().getContainers()).extracting(Container::getName)
        .containsExactly("operator", "report-api");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(r.get(Service.class, "nixek-ci-report-api").getSpec().getSelector());
    for (String role : List.of("nixek-ci-operator", "nixek-ci-report-api")) {
      ClusterRoleBinding b = r.get(ClusterRoleBinding.class, role);
      assertThat(b.getRoleRef().getName()).isEqualTo(role);
      assertThat(b.getSubjects()).extracting(Subject::getName, Subject::getNamespace)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("nixek-ci-operator", NS));
    }
    assertThat(ec2Config(Rendered.env(container(d, "operator"), fields())).watchNamespaces()).as("every namespace")
        .isEmpty();
    assertThat(ReportApiConfig.fromEnv(Rendered.env(container(d, "report-api"), fields())).watchNamespaces())
        .isEmpty();

    CommandResult both = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "config.watchAllNamespaces=true",
        "--set", "config.watchNamespaces={team-a}");
    assertThat(both.exitCode()).isNotZero();
    assertThat(both.stderr()).contains("config.watchAllNamespaces and config.watchNamespaces: set only one");
  }

  /**
   * The NetworkPolicy of evaluation and builder pods (docs/security.md#what-a-job-can-and-cannot-reach): selected by
   * their labels in each watched namespace, no ingress, egress to DNS, the report API and the configured blocks,
   * never to 169.254.0.0/16 — added to every IPv4 block that holds it, and a block inside it refused.
   */
  @Test
  void theNetworkPolicyLetsTheNixPodsReachDnsTheReportApiAndTheConfiguredBlocksButNeverLinkLocal() {
    Rendered r = helm.template("nixek-ci", NS, List.of());
    NetworkPolicy np = r.get(NetworkPolicy.class, "nixek-ci-nix-pods");
    assertThat(np.getMetadata().getNamespace()).isEqualTo(NS);
    assertThat(np.getSpec().getPodSelector().getMatchLabels()).containsExactly(
        Map.entry("app.kubernetes.io/managed-by", "nixek-ci"));
    assertThat(np.getSpec().getPodSelector().getMatchExpressions()).singleElement().satisfies(e -> {
      assertThat(e.getKey()).isEqualTo("app.kubernetes.io/component");
      assertThat(e.getOperator()).isEqualTo("In");
      assertThat(e.getValues()).containsExactly(dev.nixek.ci.common.Labels.COMPONENT_EVALUATION,
          dev.nixek.ci.operator.image.BuilderPods.COMPONENT);
    });
    assertThat(np.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
    assertThat(np.getSpec().getIngress()).as("no ingress at all").isEmpty();
    var egress = np.getSpec().getEgress();
    assertThat(egress).hasSize(4);
    assertThat(egress.get(0).getTo()).singleElement().satisfies(p -> assertThat(p.getPodSelector().getMatchLabels())
        .containsExactly(Map.entry("k8s-app", "kube-dns")));
    assertThat(egress.get(0).getPorts()).extracting(p -> p.getProtocol() + "/" + p.getPort().getIntVal())
        .containsExactly("UDP/53", "TCP/53");
    // the report API's pods, the Service's selector, on its container port
    Service reports = r.get(Service.class, "nixek-ci-report-api");
    assertThat(egress.get(1).getTo()).singleElement().satisfies(p -> {
      assertThat(p.getPodSelector().getMatchLabels()).isEqualTo(reports.getSpec().getSelector());
      assertThat(p.getNamespaceSelector().getMatchLabels())
          .containsExactly(Map.entry("kubernetes.io/metadata.name", NS));
    });
    assertThat(egress.get(1).getPorts()).singleElement().satisfies(p -> assertThat(p.getPort().getStrVal())
        .isEqualTo(reports.getSpec().getPorts().get(0).getTargetPort().getStrVal()));
    assertThat(egress.get(2).getTo()).singleElement().satisfies(p -> {
      assertThat(p.getIpBlock().getCidr()).isEqualTo("0.0.0.0/0");
      assertThat(p.getIpBlock().getExcept()).contains("169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12",
          "192.168.0.0/16");
    });
    assertThat(egress.get(3).getTo().get(0).getIpBlock().getExcept()).contains("fd00:ec2::254/128");

    // the full values: one per watched namespace, ports, and 169.254.0.0/16 added to the block that holds it only
    Rendered f = helm.template("nixek-ci", NS, List.of(full));
    for (String ns : List.of("team-a", "team-b")) {
      NetworkPolicy own = f.all(NetworkPolicy.class).stream().filter(p -> p.getMetadata().getNamespace().equals(ns))
          .findFirst().orElseThrow();
      var rules = own.getSpec().getEgress();
      assertThat(rules.get(0).getTo().get(0).getPodSelector().getMatchLabels())
          .containsExactly(Map.entry("k8s-app", "coredns"));
      assertThat(rules.get(2).getTo().get(0).getIpBlock().getExcept()).containsExactly("10.0.0.0/8",
          "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16");
      assertThat(rules.get(2).getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(443, 22);
      assertThat(rules.get(3).getTo().get(0).getIpBlock().getExcept()).isNullOrEmpty();
      assertThat(rules.get(3).getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(3128);
      assertThat(rules.get(4).getTo().get(0).getIpBlock().getCidr()).isEqualTo("2001:db8::/32");
    }

    for (String inside : List.of("169.254.169.254/32", "169.254.0.0/16")) {
      CommandResult refused = helm.tryTemplate("nixek-ci", NS, List.of(), "--set-json",
          "networkPolicy.egress=[{\"cidr\":\"" + inside + "\"}]");
      assertThat(refused.exitCode()).as(inside).isNotZero();
      assertThat(refused.stderr()).contains("networkPolicy.egress: " + inside + " is inside 169.254.0.0/16");
    }
    Rendered wide = helm.template("nixek-ci", NS, List.of(), "--set-json",
        "networkPolicy.egress=[{\"cidr\":\"128.0.0.0/1\"},{\"cidr\":\"170.0.0.0/8\"}]");
    var wideRules = wide.get(NetworkPolicy.class, "nixek-ci-nix-pods").getSpec().getEgress();
    assertThat(wideRules.get(2).getTo().get(0).getIpBlock().getExcept()).containsExactly("169.254.0.0/16");
    assertThat(wideRules.get(3).getTo().get(0).getIpBlock().getExcept()).isNullOrEmpty();
    assertThat(helm.template("nixek-ci", NS, List.of(), "--set", "networkPolicy.enabled=false")
        .all(NetworkPolicy.class)).isEmpty();
  }

  /** provider local runs job steps inside the operator's container: only with a value that says it is unsafe. */
  @Test
  void theBuilderServiceAccountTakesNoIamRoleAndTheTrustDomainIsTheNamespaceByDefault() {
    CommandResult refused = helm.tryTemplate("nixek-ci", NS, List.of(), "--set-string",
        "builder.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/builder");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.stderr()).contains("builder pods hold no AWS identity");
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "config.operator.imageBucket=ci-images",
        "--set", "config.operator.clusterId=prod");
    Map<String, String> env = new HashMap<>(
        Rendered.env(container(r.get(Deployment.class, "nixek-ci-operator"), "operator"), fields()));
    // the default render's in-cluster http URL, which the ec2 provider refuses without this
    env.put("NIXEK_ALLOW_INSECURE_REPORT_URL", "true");
    OperatorConfig c = OperatorConfig.fromEnv(env);
    assertThat(c.images().trust().trustDomain())
        .isEqualTo(dev.nixek.ci.operator.config.ImageTrustOptions.TrustDomain.NAMESPACE);
    assertThat(r.get(ServiceAccount.class, "nixek-ci-builder").getMetadata().getAnnotations()).isNullOrEmpty();
  }

  @Test
  void theLocalProviderIsRefusedUnlessExplicitlyAllowedAsUnsafe() {
    CommandResult refused = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "config.operator.provider=local");
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.stderr()).contains("config.operator.provider local runs every job step inside the "
        + "operator's container").contains("set unsafeAllowLocalProvider=true");
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "config.operator.provider=local",
        "--set", "unsafeAllowLocalProvider=true");
    OperatorConfig c = OperatorConfig.fromEnv(
        Rendered.env(container(r.get(Deployment.class, "nixek-ci-operator"), "operator"), fields()));
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.LOCAL);
  }

  @Test
  void aFullSetOfValuesRendersTheReportApiAsItsOwnDeploymentWithItsOwnServiceAccount() {
    Rendered r = helm.template("nixek-ci", NS, List.of(full));
    assertThat(r.names()).containsExactlyInAnyOrder(
        "ServiceAccount/" + NS + "/ci-operator", "ServiceAccount/" + NS + "/ci-reports",
        "ServiceAccount/team-a/ci-builder", "ServiceAccount/team-b/ci-builder",
        "ClusterRole/ci-operator", "RoleBinding/team-a/ci-operator", "RoleBinding/team-b/ci-operator",
        "Role/" + NS + "/ci-operator", "RoleBinding/" + NS + "/ci-operator-own-namespace",
        "ClusterRole/ci-report-api", "RoleBinding/team-a/ci-report-api", "RoleBinding/team-b/ci-report-api",
        "Role/" + NS + "/ci-report-api", "RoleBinding/" + NS + "/ci-report-api-own-namespace",
        "ClusterRoleBinding/ci-report-api-auth-delegator", "ClusterRole/ci-view",
        "Service/" + NS + "/ci-report-api",
        "Service/" + NS + "/ci-operator-metrics", "Service/" + NS + "/ci-report-api-metrics",
        "ServiceMonitor/" + NS + "/ci", "NetworkPolicy/team-a/ci-nix-pods", "NetworkPolicy/team-b/ci-nix-pods",
        "Deployment/" + NS + "/ci-operator", "Deployment/" + NS + "/ci-report-api");

    Deployment op = r.get(Deployment.class, "ci-operator");
    Deployment api = r.get(Deployment.class, "ci-report-api");
    assertThat(op.getSpec().getReplicas()).isEqualTo(3);
    assertThat(api.getSpec().getReplicas()).isEqualTo(4);
    assertThat(op.getSpec().getTemplate().getSpec().getContainers()).extracting(Container::getName)
        .containsExactly("operator");
    assertThat(api.getSpec().getTemplate().getSpec().getContainers()).extracting(Container::getName)
        .containsExactly("report-api");
    assertThat(op.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("ci-operator");
    assertThat(api.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("ci-reports");
    for (Deployment d : List.of(op, api)) {
      PodSpec pod = d.getSpec().getTemplate().getSpec();
      assertThat(pod.getContainers()).extracting(Container::getImage)
          .containsOnly("registry.example.com/nixek/nixek-ci:1.2.3");
      assertThat(pod.getContainers()).extracting(Container::getImagePullPolicy).containsOnly("Always");
      assertThat(pod.getImagePullSecrets()).extracting(s -> s.getName()).containsExactly("regcred");
      assertSecure(pod);
      assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
      assertThat(pod.getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
      assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getValue()).isEqualTo("ci"));
      assertThat(pod.getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution())
          .hasSize(1);
      assertThat(pod.getPriorityClassName()).isEqualTo("system-cluster-critical");
      assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(60L);
      assertThat(pod.getVolumes()).singleElement()
          .satisfies(v -> assertThat(v.getEmptyDir().getSizeLimit()).hasToString("2Gi"));
      assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape",
          "false");
      assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("team", "ci");
    }
    Container operator = container(op, "operator");
    Container reports = container(api, "report-api");
    assertProbes(operator, "health", 9090, "NIXEK_HEALTH_PORT");
    assertProbes(reports, "http", 9080, "NIXEK_REPORT_PORT");
    assertThat(operator.getResources().getLimits()).containsKeys("cpu", "memory");
    assertThat(operator.getResources().getRequests().get("memory")).hasToString("512Mi");
    assertThat(reports.getResources().getRequests().get("memory")).hasToString("300Mi");

    Map<String, String> opEnv = Rendered.env(operator, fields());
    OperatorConfig c = OperatorConfig.fromEnv(opEnv);
    assertThat(c.provider()).isEqualTo(OperatorConfig.Provider.EC2);
    assertThat(c.reportUrl()).hasToString("https://ci-report.example.com");
    assertThat(c.clusterId()).isEqualTo("prod-eu");
    assertThat(c.watchNamespaces()).containsExactly("team-a", "team-b");
    assertThat(c.tokenKeySecret()).isEqualTo("ci-token-key");
    assertThat(c.secrets()).isEqualTo(new dev.nixek.ci.operator.config.JobSecretOptions("ci-seal-key", 8192));
    assertThat(c.leaderElection().leaseName()).isEqualTo("ci-leader");
    assertThat(c.healthPort()).isEqualTo(9090);
    assertThat(c.reconcileThreads()).isEqualTo(20);
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.defaultJobTimeout()).isEqualTo(Duration.ofSeconds(7200));
    assertThat(c.localAgentCommand()).containsExactly("java", "-jar", "/opt/nixek/nixek-agent.jar");
    assertThat(c.localStateDir()).isEqualTo(Path.of("/tmp/machines"));
    assertThat(c.aws().region()).isEqualTo("eu-west-1");
    assertThat(c.aws().s3Endpoint()).hasValue(java.net.URI.create("https://s3.eu-west-1.amazonaws.com"));
    assertThat(c.aws().s3PathStyle()).isTrue();
    assertThat(c.ec2().subnets()).containsExactly("subnet-0a1b2c3d", "subnet-4e5f6a7b");
    assertThat(c.ec2().securityGroups()).containsExactly("sg-0123abcd");
    assertThat(c.ec2().instanceProfile()).isEqualTo("nixek-ci-job");
    assertThat(c.images().bucket()).isEqualTo("nixek-ci-images");
    assertThat(c.images().system()).isEqualTo("aarch64-linux");
    assertThat(c.images().builderImage()).isEqualTo("registry.example.com/nixek/builder:1.2.3");
    assertThat(c.images().builderServiceAccount()).isEqualTo("ci-builder");
    assertThat(c.images().builderMemoryLimit()).isEqualTo("12Gi");
    assertThat(c.images().trust().trustDomain())
        .isEqualTo(dev.nixek.ci.operator.config.ImageTrustOptions.TrustDomain.CLUSTER);
    assertThat(c.images().trust().uploadParts()).isEqualTo(128);
    assertThat(c.images().builderLimits().limits()).isEqualTo(
        new dev.nixek.ci.operator.pod.PodLimits("6", "", "120Gi", "100Gi"));
    assertThat(c.evaluation().limits()).isEqualTo(
        new dev.nixek.ci.operator.pod.PodLimits("1500m", "2Gi", "20Gi", "16Gi"));
    assertThat(c.evaluation().allowedUris()).containsExactly("https://files.example.com/ci", "github:");
    assertThat(c.evaluation().allowImportFromDerivation()).isTrue();
    assertThat(c.images().builderScheduling().kvmResource()).isEqualTo("devices.kubevirt.io/kvm");
    assertThat(c.images().builderScheduling().nodeSelector()).containsExactly(Map.entry("nixek.dev/kvm", "true"));
    assertThat(c.images().builderScheduling().tolerations()).singleElement()
        .satisfies(t -> assertThat(t.getKey()).isEqualTo("nixek.dev/kvm"));
    assertThat(c.images().inlineRetention()).isEqualTo(Duration.ofDays(2));
    assertThat(opEnv).containsEntry("AWS_STS_REGIONAL_ENDPOINTS", "regional")
        .containsEntry("JAVA_OPTS", "-XX:MaxRAMPercentage=60");
    ReportApiConfig rc = ReportApiConfig.fromEnv(Rendered.env(reports, fields()));
    // the seal key the operator makes, where it makes it: the report API's one Secret (docs/secrets.md)
    assertThat(rc.seal()).isEqualTo(new dev.nixek.ci.common.seal.SealKeyOptions("ci-seal-key", NS));
    assertThat(rc.port()).isEqualTo(9080);
    assertThat(rc.bodyLimitBytes()).isEqualTo(65536);
    assertThat(rc.outputTailBytes()).isEqualTo(8192);
    assertThat(rc.outputTailBudgetBytes()).isEqualTo(262144);
    assertThat(rc.workerThreads()).isEqualTo(32);
    assertThat(rc.readyMaxAge()).isEqualTo(Duration.ofSeconds(20));
    assertThat(rc.maxConnections()).isEqualTo(300);
    assertThat(rc.requestTimeout()).isEqualTo(Duration.ofSeconds(12));
    assertThat(rc.authFailuresPerMinute()).isEqualTo(7);
    assertThat(rc.jobQueueLimit()).isEqualTo(9);
    assertThat(rc.jobReportsPerSecond()).isEqualTo(11);
    // from the logs block (logs.statusIntervalMillis, logs.stepLimitBytes, logs.jobLimitBytes)
    assertThat(rc.statusIntervalMillis()).isEqualTo(2000);
    assertThat(rc.logStepLimitBytes()).isEqualTo(104857600L);
    assertThat(rc.logJobLimitBytes()).isEqualTo(524288000L);
    assertThat(rc.watchNamespaces()).containsExactly("team-a", "team-b");
    assertThat(Rendered.env(reports, fields())).containsEntry("LOG_LEVEL", "debug");

    Service svc = r.get(Service.class, "ci-report-api");
    assertThat(svc.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(svc.getMetadata().getAnnotations())
        .containsEntry("service.beta.kubernetes.io/aws-load-balancer-type", "nlb");
    assertThat(svc.getSpec().getLoadBalancerSourceRanges()).containsExactly("10.20.0.0/16");
    assertThat(svc.getSpec().getPorts().get(0).getPort()).isEqualTo(443);
    assertThat(api.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
    assertThat(op.getSpec().getTemplate().getMetadata().getLabels())
        .as("reports must not go to operator pods without a report API").doesNotContainKey("ci.nixek.dev/report-api");

    assertThat(r.get(ServiceAccount.class, "ci-operator").getMetadata().getAnnotations())
        .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/nixek-ci-operator");
    assertThat(r.get(ServiceAccount.class, "ci-reports").getMetadata().getAnnotations())
        .containsEntry("example.com/owner", "ci-team")
        .containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/nixek-ci-report-api");
    // builder pods run in their image's namespace: the builder ServiceAccount is in each watched one
    for (String ns : List.of("team-a", "team-b")) {
      ServiceAccount builder = r.all(ServiceAccount.class).stream()
          .filter(a -> ns.equals(a.getMetadata().getNamespace())).findFirst().orElseThrow();
      assertThat(builder.getMetadata().getName()).isEqualTo("ci-builder");
      assertThat(builder.getMetadata().getAnnotations()).containsEntry("example.com/owner", "ci-team")
          .doesNotContainKey("eks.amazonaws.com/role-arn");
      assertThat(builder.getAutomountServiceAccountToken()).isFalse();
    }

    // RBAC: the same rules, bound only in the watched namespaces, each role to its own ServiceAccount
    assertThat(rules(r, "ci")).containsExactlyElementsOf(withoutReasons(ExpectedRbac.rules("ci-token-key",
        "ci-seal-key", "ci-cache-key", "ci-leader", true)));
    for (String ns : List.of("team-a", "team-b")) {
      assertThat(binding(r, ns, "ci-operator")).isEqualTo("ClusterRole/ci-operator -> " + NS + "/ci-operator");
      assertThat(binding(r, ns, "ci-report-api")).isEqualTo("ClusterRole/ci-report-api -> " + NS + "/ci-reports");
    }
    assertThat(binding(r, NS, "ci-operator-own-namespace")).isEqualTo("Role/ci-operator -> " + NS + "/ci-operator");
    assertThat(r.all(ClusterRoleBinding.class)).extracting(b -> b.getMetadata().getName() + " -> "
        + b.getRoleRef().getName() + " for " + b.getSubjects().get(0).getName())
        .containsExactly("ci-report-api-auth-delegator -> system:auth-delegator for ci-reports");
  }

  /**
   * The log store's settings reach both containers from the one {@code logs} block; retention goes to the operator
   * (which deletes), the limits and the status interval to the report API (which writes).
   */
  @Test
  void theLogsBlockConfiguresTheStoreInBothContainersAndEachSidesOwnOptions() {
    Rendered r = helm.template("nixek-ci", NS, List.of(full));
    Map<String, String> op = Rendered.env(container(r.get(Deployment.class, "ci-operator"), "operator"), fields());
    Map<String, String> api = Rendered.env(container(r.get(Deployment.class, "ci-report-api"), "report-api"),
        fields());
    Map<String, String> store = Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "nixek-ci-logs",
        "NIXEK_LOG_S3_PREFIX", "prod/logs", "NIXEK_LOG_S3_REGION", "eu-central-1",
        "NIXEK_LOG_S3_ENDPOINT", "https://s3.eu-central-1.amazonaws.com");
    assertThat(op).containsAllEntriesOf(store).containsEntry("NIXEK_LOG_RETENTION_DAYS", "30")
        .doesNotContainKeys("NIXEK_LOG_DIR", "NIXEK_LOG_STEP_LIMIT_BYTES", "NIXEK_REPORT_STATUS_INTERVAL_MILLIS");
    assertThat(api).containsAllEntriesOf(store).containsEntry("NIXEK_LOG_STEP_LIMIT_BYTES", "104857600")
        .containsEntry("NIXEK_LOG_JOB_LIMIT_BYTES", "524288000")
        .containsEntry("NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "2000")
        .doesNotContainKeys("NIXEK_LOG_DIR", "NIXEK_LOG_RETENTION_DAYS");
    assertThat(OperatorConfig.fromEnv(op).logs().retention()).isEqualTo(java.time.Duration.ofDays(30));
    for (Deployment d : List.of(r.get(Deployment.class, "ci-operator"), r.get(Deployment.class, "ci-report-api"))) {
      assertThat(d.getSpec().getTemplate().getSpec().getVolumes()).extracting(v -> v.getName())
          .as("no volume for an s3 store").doesNotContain("logs");
    }
  }

  /** By default the logs go to the image bucket, in the region and through the endpoint the images use. */
  @Test
  void byDefaultTheLogsGoToTheImageBucket() {
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "config.operator.imageBucket=ci-images",
        "--set", "config.operator.awsRegion=eu-west-1", "--set", "config.operator.s3Endpoint=http://minio:9000");
    for (Map<String, String> env : List.of(
        Rendered.env(container(r.get(Deployment.class, "nixek-ci-operator"), "operator"), fields()),
        Rendered.env(container(r.get(Deployment.class, "nixek-ci-report-api"), "report-api"), fields()))) {
      assertThat(env).containsEntry("NIXEK_LOG_STORE", "s3").containsEntry("NIXEK_LOG_S3_BUCKET", "ci-images")
          .containsEntry("NIXEK_LOG_S3_REGION", "eu-west-1").containsEntry("NIXEK_LOG_S3_ENDPOINT", "http://minio:9000")
          .doesNotContainKeys("NIXEK_LOG_S3_PREFIX", "NIXEK_LOG_RETENTION_DAYS", "NIXEK_LOG_STEP_LIMIT_BYTES");
    }
    // with a cluster id, the installation's own prefix: the log collector deletes the logs of jobs it does not know,
    // so two installations must not share one
    Rendered withId = helm.template("nixek-ci", NS, List.of(), "--set", "config.operator.imageBucket=ci-images",
        "--set", "config.operator.clusterId=prod-eu-1");
    for (Map<String, String> env : List.of(
        Rendered.env(container(withId.get(Deployment.class, "nixek-ci-operator"), "operator"), fields()),
        Rendered.env(container(withId.get(Deployment.class, "nixek-ci-report-api"), "report-api"), fields()))) {
      assertThat(env).containsEntry("NIXEK_LOG_S3_PREFIX", "logs/prod-eu-1/");
    }
    assertThat(r.get(ServiceAccount.class, "nixek-ci-report-api").getMetadata().getAnnotations())
        .as("no role without logs.s3.reportApiRoleArn").isNullOrEmpty();
  }

  /**
   * A local store only on a claim, mounted where both containers look; never an emptyDir (a restart would lose
   * acknowledged logs). The report API's role annotation is for its own ServiceAccount, so not with the sidecar.
   */
  @Test
  void aLocalLogStoreNeedsAClaimAndTheRoleNeedsTheReportApisOwnServiceAccount() {
    CommandResult noClaim = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "logs.store=local");
    assertThat(noClaim.exitCode()).isNotZero();
    assertThat(noClaim.stderr()).contains("logs.store local keeps every step's log in a directory: set "
        + "logs.local.persistentVolumeClaim");
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "logs.store=local",
        "--set", "logs.local.persistentVolumeClaim=ci-logs", "--set", "logs.local.dir=/data/logs");
    for (String[] dc : List.of(new String[] {"nixek-ci-operator", "operator"},
        new String[] {"nixek-ci-report-api", "report-api"})) {
      Deployment d = r.get(Deployment.class, dc[0]);
      assertThat(d.getSpec().getTemplate().getSpec().getVolumes()).filteredOn(v -> v.getName().equals("logs"))
          .singleElement().satisfies(v -> {
            assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("ci-logs");
            assertThat(v.getEmptyDir()).isNull();
          });
      assertThat(container(d, dc[1]).getVolumeMounts()).filteredOn(m -> m.getName().equals("logs"))
          .singleElement().satisfies(m -> assertThat(m.getMountPath()).isEqualTo("/data/logs"));
      assertThat(Rendered.env(container(d, dc[1]), fields())).containsEntry("NIXEK_LOG_STORE", "local")
          .containsEntry("NIXEK_LOG_DIR", "/data/logs").doesNotContainKey("NIXEK_LOG_S3_BUCKET");
    }
    CommandResult sidecarRole = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "reportApi.mode=sidecar",
        "--set", "logs.s3.reportApiRoleArn=arn:aws:iam::1:role/r");
    assertThat(sidecarRole.exitCode()).isNotZero();
    assertThat(sidecarRole.stderr()).contains("logs.s3.reportApiRoleArn annotates the report API's own "
        + "ServiceAccount");
    CommandResult badStore = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "logs.store=disk");
    assertThat(badStore.exitCode()).as("the schema's enum").isNotZero();
  }

  /**
   * Metrics: cluster-internal Services in front of the operator's health port and the report API's metrics port, a
   * ServiceMonitor selecting exactly those, and the report API's public Service carrying no metrics port.
   */
  @Test
  void theMetricsServicesAndServiceMonitorMatchTheContainersPortsAndNotThePublicService() {
    Rendered r = helm.template("nixek-ci", NS, List.of(full));
    Container operator = container(r.get(Deployment.class, "ci-operator"), "operator");
    Container api = container(r.get(Deployment.class, "ci-report-api"), "report-api");
    assertThat(operator.getPorts()).anySatisfy(p -> {
      assertThat(p.getName()).isEqualTo("health");
      assertThat(p.getContainerPort()).isEqualTo(9090);
    });
    assertThat(api.getPorts()).anySatisfy(p -> {
      assertThat(p.getName()).isEqualTo("report-metrics");
      assertThat(p.getContainerPort()).isEqualTo(9082);
    });
    assertThat(Rendered.env(api, fields())).containsEntry("NIXEK_REPORT_METRICS_PORT", "9082");

    Service opMetrics = r.get(Service.class, "ci-operator-metrics");
    Service apiMetrics = r.get(Service.class, "ci-report-api-metrics");
    assertThat(opMetrics.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(apiMetrics.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(opMetrics.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getTargetPort().getStrVal()).isEqualTo("health");
    });
    assertThat(apiMetrics.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getTargetPort().getStrVal()).isEqualTo("report-metrics");
    });
    Map<String, String> opPodLabels = r.get(Deployment.class, "ci-operator").getSpec().getTemplate().getMetadata()
        .getLabels();
    Map<String, String> apiPodLabels = r.get(Deployment.class, "ci-report-api").getSpec().getTemplate().getMetadata()
        .getLabels();
    assertThat(opPodLabels).containsAllEntriesOf(opMetrics.getSpec().getSelector());
    assertThat(apiPodLabels).containsAllEntriesOf(apiMetrics.getSpec().getSelector());
    assertThat(r.get(Service.class, "ci-report-api").getSpec().getPorts()).extracting(p -> p.getName())
        .containsExactly("http");

    var monitor = r.objects().stream().filter(o -> "ServiceMonitor".equals(o.getKind())).findFirst().orElseThrow();
    JsonNode spec = new ObjectMapper().valueToTree(monitor).get("spec");
    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus");
    Map<String, String> selector = new ObjectMapper().convertValue(spec.get("selector").get("matchLabels"),
        new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
    for (Service s : r.all(Service.class)) {
      boolean selected = s.getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
      assertThat(selected).as("ServiceMonitor selects %s", s.getMetadata().getName())
          .isEqualTo(s.getMetadata().getName().endsWith("-metrics"));
    }
    assertThat(spec.get("endpoints")).singleElement().satisfies(e -> {
      assertThat(e.get("port").asText()).isEqualTo("metrics");
      assertThat(e.get("path").asText()).isEqualTo("/metrics");
      assertThat(e.get("interval").asText()).isEqualTo("15s");
      assertThat(e.get("scrapeTimeout").asText()).isEqualTo("5s");
    });

    // off by default: no Service, no ServiceMonitor (the Prometheus Operator's CRDs may not be installed)
    assertThat(helm.template("nixek-ci", NS, List.of()).names())
        .noneMatch(n -> n.startsWith("ServiceMonitor/") || n.endsWith("-metrics"));
  }

  /** The template's key → variable conversion is the one ChartOptions (and so the README and the tests) assume. */
  @Test
  void everyConfigKeyBecomesTheEnvironmentVariableNamedAfterIt() throws IOException {
    Rendered r = helm.template("nixek-ci", NS, List.of(full));
    JsonNode config = new ObjectMapper(new YAMLFactory()).readTree(full.toFile()).get("config");
    Map<String, String> op = Rendered.env(container(r.get(Deployment.class, "ci-operator"), "operator"), fields());
    Map<String, String> api = Rendered.env(container(r.get(Deployment.class, "ci-report-api"), "report-api"),
        fields());
    config.get("operator").fields().forEachRemaining(e -> assertThat(op)
        .containsEntry(ChartOptions.envName(e.getKey()), ChartOptions.envValue(e.getValue())));
    config.get("reportApi").fields().forEachRemaining(e -> assertThat(api)
        .containsEntry(ChartOptions.envName(e.getKey()), ChartOptions.envValue(e.getValue())));
    assertThat(op).containsEntry("NIXEK_WATCH_NAMESPACES", "team-a,team-b");
    assertThat(api).containsEntry("NIXEK_WATCH_NAMESPACES", "team-a,team-b");
  }

  @Test
  void aDigestWinsOverTheTagAndTheBuilderImageDefaultsToTheChartsImage() {
    String digest = "sha256:" + "ab".repeat(32);
    Rendered r = helm.template("x", NS, List.of(), "--set", "image.digest=" + digest, "--set", "image.tag=9.9");
    Deployment d = r.get(Deployment.class, "x-nixek-ci-operator");
    assertThat(d.getSpec().getTemplate().getSpec().getContainers()).extracting(Container::getImage)
        .containsOnly("ghcr.io/nixek/nixek-ci@" + digest);
    assertThat(Rendered.env(container(d, "operator"), fields()))
        .containsEntry("NIXEK_BUILDER_IMAGE", "ghcr.io/nixek/nixek-ci@" + digest);
  }

  /** The builder section's KVM and placement values reach the operator as the options BuilderPods reads. */
  @Test
  void builderKvmAndPlacementValuesBecomeTheOperatorsBuilderOptions() {
    OperatorConfig byDefault = ec2Config(Rendered.env(container(
        helm.template("nixek-ci", NS, List.of()).get(Deployment.class, "nixek-ci-operator"), "operator"), fields()));
    assertThat(byDefault.images().builderScheduling().kvmResource()).isEmpty();
    assertThat(byDefault.images().builderScheduling().nodeSelector()).isEmpty();
    assertThat(byDefault.images().builderScheduling().tolerations()).isEmpty();

    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "builder.kvm.resource=devices.kubevirt.io/kvm",
        "--set", "builder.kvm.fallback=emulate", "--set-string", "builder.nodeSelector.nixek\\.dev/kvm=true",
        "--set-string", "builder.nodeSelector.kubernetes\\.io/arch=amd64",
        "--set", "builder.tolerations[0].key=nixek.dev/kvm", "--set", "builder.tolerations[0].operator=Exists",
        "--set", "builder.tolerations[0].effect=NoSchedule");
    Map<String, String> env = Rendered.env(container(r.get(Deployment.class, "nixek-ci-operator"), "operator"),
        fields());
    assertThat(env).containsEntry("NIXEK_BUILDER_NODE_SELECTOR", "kubernetes.io/arch=amd64,nixek.dev/kvm=true");
    var scheduling = ec2Config(env).images().builderScheduling();
    assertThat(scheduling.kvmResource()).isEqualTo("devices.kubevirt.io/kvm");
    assertThat(scheduling.kvmFallback().name()).isEqualTo("EMULATE");
    assertThat(scheduling.nodeSelector()).containsEntry("nixek.dev/kvm", "true");
    assertThat(scheduling.tolerations()).singleElement().satisfies(t -> {
      assertThat(t.getKey()).isEqualTo("nixek.dev/kvm");
      assertThat(t.getOperator()).isEqualTo("Exists");
      assertThat(t.getEffect()).isEqualTo("NoSchedule");
    });
    // the operator pods' own placement is separate
    assertThat(r.get(Deployment.class, "nixek-ci-operator").getSpec().getTemplate().getSpec().getNodeSelector())
        .isNullOrEmpty();

    CommandResult typo = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "builder.kvm.fallback=tcg");
    assertThat(typo.exitCode()).isNotZero();
    assertThat(typo.stderr()).contains("fallback");
  }

  @Test
  void withoutLeaderElectionTheOperatorGetsNoLeasePermissions() {
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "config.operator.leaderElection=false");
    assertThat(r.get(Role.class, "nixek-ci-operator").getRules())
        .noneMatch(rule -> rule.getResources().contains("leases"));
    assertThat(rules(r, "nixek-ci")).containsExactlyElementsOf(
        withoutReasons(ExpectedRbac.rules("nixek-ci-token-key", "nixek-operator", false)));
    OperatorConfig c = ec2Config(
        Rendered.env(container(r.get(Deployment.class, "nixek-ci-operator"), "operator"), fields()));
    assertThat(c.leaderElection().enabled()).isFalse();
  }

  @Test
  void rbacAndServiceAccountsCanBeLeftToTheInstaller() {
    Rendered r = helm.template("nixek-ci", NS, List.of(), "--set", "rbac.create=false",
        "--set", "serviceAccount.create=false", "--set", "serviceAccount.name=existing",
        "--set", "builder.serviceAccount.create=false", "--set", "builder.serviceAccount.name=existing-builder");
    assertThat(r.names()).containsExactlyInAnyOrder("Service/" + NS + "/nixek-ci-report-api",
        "Deployment/" + NS + "/nixek-ci-operator", "Deployment/" + NS + "/nixek-ci-report-api",
        "ServiceAccount/" + NS + "/nixek-ci-report-api", "NetworkPolicy/" + NS + "/nixek-ci-nix-pods");
    Deployment d = r.get(Deployment.class, "nixek-ci-operator");
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("existing");
    assertThat(Rendered.env(container(d, "operator"), fields()))
        .containsEntry("NIXEK_BUILDER_SERVICE_ACCOUNT", "existing-builder");
    CommandResult noName = helm.tryTemplate("nixek-ci", NS, List.of(), "--set", "serviceAccount.create=false");
    assertThat(noName.exitCode()).isNotZero();
    assertThat(noName.stderr()).contains("serviceAccount.name is required");
    CommandResult noBuilder = helm.tryTemplate("nixek-ci", NS, List.of(), "--set",
        "builder.serviceAccount.create=false");
    assertThat(noBuilder.exitCode()).isNotZero();
    assertThat(noBuilder.stderr()).contains("builder.serviceAccount.name is required");
  }

  @Test
  void theSchemaRejectsAMisspelledKeyAndAWrongType() {
    Path typo = Helm.valuesFile(tmp, "typo.yaml", "reportApi:\n  serivce:\n    type: LoadBalancer\n");
    Path wrongType = Helm.valuesFile(tmp, "type.yaml", "replicaCount: two\n");
    Path nestedTypo = Helm.valuesFile(tmp, "nested.yaml", "config:\n  operator:\n    pollSecond: 3\n");
    Path wrongEnum = Helm.valuesFile(tmp, "enum.yaml", "config:\n  operator:\n    provider: gcp\n");
    for (Path values : List.of(typo, wrongType, nestedTypo, wrongEnum)) {
      CommandResult t = helm.tryTemplate("nixek-ci", NS, List.of(values));
      CommandResult l = helm.run("lint", Helm.CHART.toString(), "--values", values.toString());
      assertThat(t.exitCode()).as("template %s", values.getFileName()).isNotZero();
      assertThat(l.exitCode()).as("lint %s", values.getFileName()).isNotZero();
    }
    assertThat(helm.tryTemplate("nixek-ci", NS, List.of(typo)).stderr())
        .contains("at '/reportApi': additional properties 'serivce' not allowed");
    assertThat(helm.tryTemplate("nixek-ci", NS, List.of(wrongType)).stderr())
        .contains("at '/replicaCount': got string, want integer");
    assertThat(helm.tryTemplate("nixek-ci", NS, List.of(nestedTypo)).stderr())
        .contains("at '/config/operator': additional properties 'pollSecond' not allowed");
    assertThat(helm.tryTemplate("nixek-ci", NS, List.of(wrongEnum)).stderr()).contains("/config/operator/provider");
  }

  /** Every key the schema knows is set in full-values.yaml, so "a full set of values" stays full. */
  @Test
  void theFullValuesSetEveryKeyOfTheSchema() throws IOException {
    ObjectMapper json = new ObjectMapper();
    JsonNode schema = json.readTree(Helm.CHART.resolve("values.schema.json").toFile());
    JsonNode values = new ObjectMapper(new YAMLFactory()).readTree(full.toFile());
    List<String> missing = new ArrayList<>();
    missingKeys(schema, schema, values, "", missing);
    // only valid with seccomp type Localhost, which needs a profile on the node
    missing.removeAll(List.of("/podSecurityContext/seccompProfile/localhostProfile",
        "/securityContext/seccompProfile/localhostProfile"));
    assertThat(missing).as("keys of values.schema.json not set in full-values.yaml").isEmpty();
  }

  private static void missingKeys(JsonNode root, JsonNode schema, JsonNode values, String path, List<String> out) {
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asText().replace("#/definitions/", "");
      schema = root.get("definitions").get(ref);
    }
    if (!schema.has("properties") || values == null || !values.isObject()) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = schema.get("properties").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      if (!values.has(p.getKey())) {
        out.add(path + "/" + p.getKey());
      } else {
        missingKeys(root, p.getValue(), values.get(p.getKey()), path + "/" + p.getKey(), out);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /**
   * The operator's configuration from a rendering with provider ec2 and the chart's in-cluster report URL: the cluster
   * id and the http allowance an installer would set, so the rest can be read.
   */
  static OperatorConfig ec2Config(Map<String, String> env) {
    Map<String, String> with = new java.util.HashMap<>(env);
    with.putIfAbsent("NIXEK_CLUSTER_ID", "test");
    with.putIfAbsent("NIXEK_ALLOW_INSECURE_REPORT_URL", "true");
    return OperatorConfig.fromEnv(with);
  }

  static Map<String, String> fields() {
    return Map.of("metadata.namespace", NS, "metadata.name", POD);
  }

  /** Non-root, read-only root filesystem with an emptyDir /tmp, no privilege escalation, no capabilities. */
  static void assertSecure(PodSpec pod) {
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getVolumes()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("tmp");
      assertThat(v.getEmptyDir()).isNotNull();
    });
    for (Container c : pod.getContainers()) {
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
      assertThat(c.getSecurityContext().getPrivileged()).as(c.getName()).isFalse();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
      assertThat(c.getSecurityContext().getCapabilities().getAdd()).as(c.getName()).isNullOrEmpty();
      assertThat(c.getVolumeMounts()).as(c.getName())
          .anySatisfy(m -> assertThat(m.getMountPath() + " " + m.getName()).isEqualTo("/tmp tmp"));
    }
  }

  /**
   * Liveness on /healthz and readiness on /readyz of the named port, which is the port the program listens on (the
   * report API's container also has its metrics port, apart from it).
   */
  static void assertProbes(Container c, String portName, int port, String portOption) {
    assertThat(c.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
        .contains(org.assertj.core.groups.Tuple.tuple(portName, port));
    assertThat(c.getPorts()).extracting(ContainerPort::getName).isSubsetOf(portName, "report-metrics");
    assertThat(Rendered.env(c, fields())).containsEntry(portOption, Integer.toString(port));
    for (Probe p : Stream.of(c.getLivenessProbe(), c.getStartupProbe()).toList()) {
      assertThat(p.getHttpGet().getPath()).isEqualTo("/healthz");
      assertThat(p.getHttpGet().getPort().getStrVal()).isEqualTo(portName);
    }
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo(portName);
  }

  /** Every rule of the chart's (Cluster)Roles named {@code <fullname>-operator} / {@code -report-api}. */
  static List<Rule> rules(Rendered r, String fullname) {
    List<Rule> out = new ArrayList<>();
    r.get(ClusterRole.class, fullname + "-operator").getRules().forEach(p -> out.add(Rule.of(p, Scope.OPERATOR)));
    r.get(Role.class, fullname + "-operator").getRules()
        .forEach(p -> out.add(Rule.of(p, Scope.OPERATOR_OWN_NAMESPACE)));
    r.get(ClusterRole.class, fullname + "-report-api").getRules()
        .forEach(p -> out.add(Rule.of(p, Scope.REPORT_API)));
    r.get(Role.class, fullname + "-report-api").getRules()
        .forEach(p -> out.add(Rule.of(p, Scope.REPORT_API_OWN_NAMESPACE)));
    return out;
  }

  static List<Rule> withoutReasons(List<Rule> rules) {
    return rules.stream().map(Rule::withoutReason).toList();
  }

  private static String binding(Rendered r, String ns, String name) {
    RoleBinding b = r.all(RoleBinding.class).stream()
        .filter(x -> ns.equals(x.getMetadata().getNamespace()) && name.equals(x.getMetadata().getName()))
        .findFirst().orElseThrow();
    Subject s = b.getSubjects().get(0);
    return b.getRoleRef().getKind() + "/" + b.getRoleRef().getName() + " -> " + s.getNamespace() + "/" + s.getName();
  }
}
