package dev.nixek.ci.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.e2e.chart.ExpectedRbac.Rule;
import dev.nixek.ci.e2e.chart.ExpectedRbac.Scope;
import dev.nixek.ci.e2e.chart.RbacScenario.Result;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Least privilege, proven on a real kube-apiserver with the chart's own ServiceAccounts.
 *
 * <p>First, with the chart as rendered, every probe of {@link RbacScenario} passes and the API server's audit log
 * shows that the operator and the report API asked only for what a rule of the chart grants, were never refused,
 * and used every verb of every rule.
 *
 * <p>Then the ablation: for each verb of each rule, a fresh installation of the chart has exactly that verb removed
 * from its (Cluster)Role, and some probe must fail. The table (rule, verb → the failing observation) is printed and
 * written to {@code target/rbac-ablation.md}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RbacAblationE2E {
  /** Verbs the code never sends but a library checks for before it starts; each with the reason. */
  static final Map<String, String> CHECKED_NOT_SENT = Map.of(
      "coordination.k8s.io leases [nixek-operator] update",
      "JOSDK's LeaderElectionManager requires create, update and get on leases (SelfSubjectRulesReview) before it "
      + "starts; fabric8's LeaderElector then renews with patch");

  @TempDir
  static Path work;
  private static KubeApiServer kube;
  private static RbacScenario.ImageBackends aws;
  private static Path auditLog;
  private static Duration baselineJob;

  @BeforeAll
  static void startServer() throws Exception {
    Path policy = Files.writeString(work.resolve("audit-policy.yaml"), AuditLog.POLICY);
    auditLog = work.resolve("audit.log");
    kube = KubeApiServer.builder()
        .apiServerArg("--audit-policy-file=" + policy)
        .apiServerArg("--audit-log-path=" + auditLog)
        .apiServerArg("--enable-admission-plugins=OwnerReferencesPermissionEnforcement")
        .start();
    aws = new RbacScenario.ImageBackends();
  }

  @AfterAll
  static void stopServer() {
    if (aws != null) {
      aws.close();
    }
    if (kube != null) {
      kube.close();
    }
  }

  @Test
  @Order(1)
  void withTheChartsRbacEveryProbePassesAndTheAuditLogShowsEveryVerbUsedAndNothingRefused() throws Exception {
    RbacScenario scenario = new RbacScenario(kube, work, Duration.ofSeconds(90), aws);
    List<Result> results = scenario.run("usage", chart -> { }, false);
    results.forEach(r -> System.out.printf("probe with every permission: %s, %d ms%n", r.probe(), r.took().toMillis()));
    assertThat(results).allSatisfy(r -> assertThat(r.passed()).as(r.probe() + ": " + r.observation()).isTrue());
    baselineJob = slowestJobProbe(results);

    ChartInstall chart = installed("usage");
    String opUser = "system:serviceaccount:" + chart.namespace() + ":" + chart.operatorServiceAccount();
    String apiUser = "system:serviceaccount:" + chart.namespace() + ":" + chart.reportApiServiceAccount();
    List<AuditLog.Request> requests = new ArrayList<>(AuditLog.read(auditLog, opUser));
    requests.addAll(AuditLog.read(auditLog, apiUser));
    assertThat(requests).as("audit log").isNotEmpty();
    assertThat(requests).as("requests RBAC refused").allMatch(AuditLog.Request::allowed);

    List<Rule> rules = ExpectedRbac.rules("nixek-ci-token-key", "nixek-operator");
    Map<String, Integer> uses = new LinkedHashMap<>();
    rules.forEach(r -> r.verbs().forEach(v -> uses.put(key(r, v), 0)));
    List<String> ungranted = new ArrayList<>();
    for (AuditLog.Request q : requests) {
      if (q.apiGroup().equals("authorization.k8s.io") && q.resource().startsWith("self")) {
        continue; // self reviews: every authenticated user may (system:basic-user)
      }
      boolean operator = q.user().equals(opUser);
      boolean own = q.namespace().equals(chart.namespace());
      Scope scope = !operator ? (own ? Scope.REPORT_API_OWN_NAMESPACE : Scope.REPORT_API)
          : own ? Scope.OPERATOR_OWN_NAMESPACE : Scope.OPERATOR;
      boolean granted = false;
      for (Rule r : rules) {
        if (r.scope() == scope && matches(r, q, chart)) {
          uses.merge(key(r, q.verb()), 1, Integer::sum);
          granted = true;
        }
      }
      if (!granted) {
        ungranted.add(scope + ": " + q);
      }
    }
    StringBuilder table = new StringBuilder("| Rule | Verb | Requests in the run |\n| --- | --- | --- |\n");
    uses.forEach((k, n) -> table.append("| ").append(k.substring(0, k.lastIndexOf(' '))).append(" | ")
        .append(k.substring(k.lastIndexOf(' ') + 1)).append(" | ").append(n).append(" |\n"));
    System.out.println("RBAC usage (audit log):\n" + table);
    Files.writeString(target("rbac-usage.md"), table.toString(), StandardCharsets.UTF_8);
    assertThat(ungranted).as("requests no rule of the chart grants (another role granted them?)").isEmpty();
    uses.forEach((k, n) -> {
      if (n == 0) {
        assertThat(CHECKED_NOT_SENT.keySet()).as("a verb the run never used: %s", k).anyMatch(k::endsWith);
      }
    });
  }

  @Test
  @Order(2)
  void removingAnySingleVerbMakesAProbeFail() throws Exception {
    if (baselineJob == null) {
      List<Result> control = new RbacScenario(kube, work, Duration.ofSeconds(90), aws).run("control", c -> { }, false);
      assertThat(control).allMatch(Result::passed);
      baselineJob = slowestJobProbe(control);
    }
    // a job that has not made it in 1.5 times what the slowest job probe took with all permissions will not; each
    // failure is also checked against the audit log below, so a slow machine cannot fake one
    Duration timeout = Duration.ofMillis(Math.max(6000, baselineJob.toMillis() * 3 / 2));
    RbacScenario scenario = new RbacScenario(kube, work, timeout, aws);
    Instant start = Instant.now();
    StringBuilder table = new StringBuilder("| Rule | Verb removed | Failing probe | Observation | 403s | s |\n"
        + "| --- | --- | --- | --- | --- | --- |\n");
    List<String> survivors = new ArrayList<>();
    List<String> unattributed = new ArrayList<>();
    int n = 0;
    for (Rule rule : ExpectedRbac.rules("nixek-ci-token-key", "nixek-operator")) {
      for (String verb : rule.verbs()) {
        Instant t0 = Instant.now();
        String release = "abl" + (++n);
        List<Result> results = scenario.run(release, chart -> remove(chart, rule, verb), true);
        Result failed = results.stream().filter(r -> !r.passed()).findFirst().orElse(null);
        long refused = refusals(RbacScenario.last(release), rule, verb);
        String row = "| " + scope(rule) + " " + rule.target() + " | " + verb + " | "
            + (failed == null ? "**none**" : failed.probe()) + " | "
            + (failed == null ? "" : failed.observation().replace("|", "\\|")) + " | " + refused + " | "
            + Duration.between(t0, Instant.now()).toSeconds() + " |\n";
        table.append(row);
        System.out.print("ablation " + row);
        if (failed == null) {
          survivors.add(rule.target() + " " + verb);
        } else if (refused == 0 && !failed.observation().contains("missing required verbs: [" + verb + "]")) {
          unattributed.add(rule.target() + " " + verb + ": " + failed.observation());
        }
      }
    }
    Duration wall = Duration.between(start, Instant.now());
    table.append("\n").append(n).append(" ablations in ").append(wall.toSeconds()).append(" s (job probe timeout ")
        .append(timeout.toMillis()).append(" ms: 1.5 times the slowest job probe with every permission, at least 6 s)\n");
    System.out.println("RBAC ablation:\n" + table);
    Files.writeString(target("rbac-ablation.md"), table.toString(), StandardCharsets.UTF_8);
    assertThat(survivors).as("verbs whose removal no probe noticed").isEmpty();
    assertThat(unattributed).as("failures without a refusal of the removed verb (too slow a machine?)").isEmpty();
  }

  /** How often the API server refused the removed verb to the rule's ServiceAccount (audit log). */
  private static long refusals(ChartInstall chart, Rule rule, String verb) {
    String sa = reportApi(rule) ? chart.reportApiServiceAccount() : chart.operatorServiceAccount();
    String ns = ownNamespace(rule) ? chart.namespace() : chart.jobsNamespace();
    return AuditLog.read(auditLog, "system:serviceaccount:" + chart.namespace() + ":" + sa).stream()
        .filter(q -> !q.allowed() && q.verb().equals(verb) && q.resource().equals(rule.resource())
            && q.apiGroup().equals(rule.apiGroup()) && q.namespace().equals(ns))
        .count();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Replaces the rule's (Cluster)Role by the installed one without {@code verb}, and waits until RBAC says no. */
  static void remove(ChartInstall chart, Rule rule, String verb) {
    boolean report = reportApi(rule);
    String name = chart.fullname() + (report ? "-report-api" : "-operator");
    var client = kube.client();
    HasMetadata role;
    List<PolicyRule> rules;
    if (ownNamespace(rule)) {
      Role r = client.rbac().roles().inNamespace(chart.namespace()).withName(name).get();
      role = r;
      rules = r.getRules();
    } else {
      ClusterRole r = client.rbac().clusterRoles().withName(name).get();
      role = r;
      rules = r.getRules();
    }
    List<PolicyRule> changed = new ArrayList<>();
    int hits = 0;
    for (PolicyRule p : rules) {
      if (Rule.of(p, rule.scope()).withoutReason().equals(rule.withoutReason())) {
        hits++;
        Rule rest = rule.without(verb);
        if (rest != null) {
          changed.add(rest.toPolicyRule());
        }
      } else {
        changed.add(p);
      }
    }
    assertThat(hits).as("installed role has the rule %s", rule).isEqualTo(1);
    rules.clear();
    rules.addAll(changed);
    client.resource(role).update();
    String ns = ownNamespace(rule) ? chart.namespace() : chart.jobsNamespace();
    String sa = report ? chart.reportApiServiceAccount() : chart.operatorServiceAccount();
    String[] res = rule.resource().split("/");
    SubjectAccessReview review = new SubjectAccessReviewBuilder().withNewSpec()
        .withUser("system:serviceaccount:" + chart.namespace() + ":" + sa)
        .withGroups("system:serviceaccounts", "system:serviceaccounts:" + chart.namespace(), "system:authenticated")
        .withNewResourceAttributes().withGroup(rule.apiGroup()).withResource(res[0])
        .withSubresource(res.length > 1 ? res[1] : null).withVerb(verb).withNamespace(ns)
        .withName(rule.resourceNames().isEmpty() ? null : rule.resourceNames().get(0)).endResourceAttributes()
        .endSpec().build();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (client.resource(review).create().getStatus().getAllowed()) {
      assertThat(System.nanoTime()).as("RBAC still allows %s %s", verb, rule.target()).isLessThan(deadline);
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static boolean matches(Rule r, AuditLog.Request q, ChartInstall chart) {
    return r.apiGroup().equals(q.apiGroup()) && r.resource().equals(q.resource()) && r.verbs().contains(q.verb())
        && (r.resourceNames().isEmpty() || r.resourceNames().contains(q.name()))
        && (ownNamespace(r) ? chart.namespace() : chart.jobsNamespace()).equals(q.namespace());
  }

  private static boolean ownNamespace(Rule r) {
    return r.scope() == Scope.OPERATOR_OWN_NAMESPACE || r.scope() == Scope.REPORT_API_OWN_NAMESPACE;
  }

  private static boolean reportApi(Rule r) {
    return r.scope() == Scope.REPORT_API || r.scope() == Scope.REPORT_API_OWN_NAMESPACE;
  }

  private static String key(Rule r, String verb) {
    return scope(r) + " " + r.target() + " " + verb;
  }

  private static String scope(Rule r) {
    return switch (r.scope()) {
      case OPERATOR -> "operator:";
      case OPERATOR_OWN_NAMESPACE -> "operator (own ns):";
      case REPORT_API -> "report API:";
      case REPORT_API_OWN_NAMESPACE -> "report API (own ns):";
    };
  }

  private static Duration slowestJobProbe(List<Result> results) {
    return results.stream().filter(r -> r.probe().contains("job") || r.probe().contains("machine"))
        .map(Result::took).max(Duration::compareTo).orElseThrow();
  }

  /** The installation named {@code release} (the scenario made it; its namespaces are found by label). */
  private static ChartInstall installed(String release) {
    return RbacScenario.last(release);
  }

  private static Path target(String file) throws java.io.IOException {
    Path dir = Helm.HOME.resolve("e2e/target");
    Files.createDirectories(dir);
    return dir.resolve(file);
  }
}
