package dev.nixek.ci.e2e.chart;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.ArrayList;
import java.util.List;

/**
 * The permissions the chart must grant, rule by rule, each with the code that needs it: exactly what
 * {@code templates/rbac/_rules.tpl} renders (ChartTemplateTest compares them), and what RbacAblationE2E proves
 * necessary one verb at a time. A rule added to the chart is added here with its reason and a probe that fails
 * without it.
 */
public final class ExpectedRbac {
  private ExpectedRbac() {}

  /** Where a role applies. */
  public enum Scope {
    /** The operator's ClusterRole, bound in every watched namespace (or cluster-wide). */
    OPERATOR,
    /** The operator's Role in its own (the release) namespace. */
    OPERATOR_OWN_NAMESPACE,
    /** The report API's ClusterRole, bound like the operator's. */
    REPORT_API,
    /** The report API's Role in the release namespace: the seal key only. */
    REPORT_API_OWN_NAMESPACE
  }

  /** The chart's default seal key Secret. */
  public static final String SEAL_KEY = "nixek-ci-seal-key";

  /** The chart's default binary cache key Secret. */
  public static final String CACHE_KEY = "nixek-ci-cache-key";

  /** One rule: what it allows and why the code needs it. */
  public record Rule(Scope scope, String apiGroup, String resource, List<String> resourceNames, List<String> verbs,
      String why) {
    public static Rule of(PolicyRule r, Scope scope) {
      if (r.getApiGroups().size() != 1 || r.getResources().size() != 1) {
        throw new IllegalArgumentException("the chart's rules name one group and one resource each: " + r);
      }
      return new Rule(scope, r.getApiGroups().get(0), r.getResources().get(0),
          r.getResourceNames() == null ? List.of() : List.copyOf(r.getResourceNames()), List.copyOf(r.getVerbs()),
          "");
    }

    /** The same rule without its reason (for comparing with a rendered one). */
    public Rule withoutReason() {
      return new Rule(scope, apiGroup, resource, resourceNames, verbs, "");
    }

    /** This rule without one verb (null when it was the only one). */
    public Rule without(String verb) {
      List<String> rest = verbs.stream().filter(v -> !v.equals(verb)).toList();
      return rest.isEmpty() ? null : new Rule(scope, apiGroup, resource, resourceNames, rest, why);
    }

    public PolicyRule toPolicyRule() {
      PolicyRule r = new PolicyRule();
      r.setApiGroups(List.of(apiGroup));
      r.setResources(List.of(resource));
      r.setResourceNames(resourceNames.isEmpty() ? null : resourceNames);
      r.setVerbs(verbs);
      return r;
    }

    /** e.g. {@code ci.nixek.dev nixekjobs [x]}. */
    public String target() {
      return (apiGroup.isEmpty() ? "core" : apiGroup) + " " + resource
          + (resourceNames.isEmpty() ? "" : " " + resourceNames);
    }
  }

  /** The chart's rules with the given token key Secret and Lease names. */
  public static List<Rule> rules(String tokenKeySecret, String leaseName, boolean leaderElection) {
    return rules(tokenKeySecret, SEAL_KEY, CACHE_KEY, leaseName, leaderElection);
  }

  /** The chart's rules with the given token key, seal key and cache key Secret and Lease names. */
  public static List<Rule> rules(String tokenKeySecret, String sealKeySecret, String cacheKeySecret,
      String leaseName, boolean leaderElection) {
    List<Rule> rules = new ArrayList<>(List.of(
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekjobs", List.of(),
            List.of("get", "list", "watch", "create", "patch", "delete"),
            "JOSDK's informer (list, watch); a fresh read before a job is called InstanceLost (get); a repository's "
            + "commit's jobs (RepositoryJobs: create); the finalizer, a superseded commit's jobs cancelled (patch); a "
            + "finished job past its ttlSecondsAfterFinished (JobTtl), a repository's past keepCommits (delete)"),
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekjobs/status", List.of(), List.of("patch"),
            "the operator's status fields, by server-side apply (StatusWriter.jobs)"),
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekmachineimages", List.of(),
            List.of("get", "list", "watch", "create", "patch", "delete"),
            "the image and job reconcilers' informers (list, watch); a job's image by name or inline machine "
            + "(NamedImageResolver, ContentAddressedImageResolver: get); an inline machine's image (create); the "
            + "Cleaner's finalizer and InlineImageCollector's mark (patch); an unused inline image (delete)"),
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekmachineimages/status", List.of(), List.of("patch"),
            "the operator's image status, by server-side apply (StatusWriter.images)"),
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekrepositories", List.of(), List.of("list", "watch"),
            "the repository reconciler's informer (NixekRepositoryReconciler)"),
        new Rule(Scope.OPERATOR, "ci.nixek.dev", "nixekrepositories/status", List.of(), List.of("patch"),
            "the operator's repository status, by server-side apply (RepositoryStatusWriter)"),
        new Rule(Scope.OPERATOR, "", "pods", List.of(), List.of("list", "watch", "create", "delete"),
            "builder pods (NixekMachineImageReconciler) and evaluation pods (JobEvaluator): informers by label "
            + "(list, watch), started (create), a failed builder pod deleted before a retry, a cancelled job's "
            + "evaluation pod stopped (delete)"),
        new Rule(Scope.OPERATOR, "", "configmaps", List.of(), List.of("create"),
            "a builder pod's ConfigMap: the machine and the image expression (BuilderPods); an evaluation pod's: "
            + "the job's spec.nix (EvaluationPods)"),
        new Rule(Scope.OPERATOR, "", "secrets", List.of(), List.of("create", "delete"),
            "an evaluation pod's token Secret (JobEvaluator: create), deleted once the result is recorded (delete); "
            + "token records are in the job's status; a builder pod's upload grant (BuildStage: create), deleted once "
            + "its result is handled (delete)"),
        new Rule(Scope.OPERATOR, "", "secrets", List.of(), List.of("get"),
            "a repository's token and webhook Secrets, read by name (RepositorySecrets); the Secrets a job uses, "
            + "checked and sealed at launch (JobSecretSealing)"),
        new Rule(Scope.OPERATOR, "", "events", List.of(), List.of("get", "create", "patch"),
            "Events on jobs and images (EventRecorder: read by name, create, bump the count of a repeat)"),
        new Rule(Scope.OPERATOR_OWN_NAMESPACE, "", "secrets", List.of(), List.of("create"),
            "the token key Secret is created at first start (TokenKeyStore), the seal key and the cache key at first "
            + "use (KeySecrets); create cannot be limited by name"),
        new Rule(Scope.OPERATOR_OWN_NAMESPACE, "", "secrets", List.of(tokenKeySecret, sealKeySecret, cacheKeySecret),
            List.of("get"), "the token key Secret, read at start (TokenKeyStore); the seal key, read or made at the "
            + "first job with secrets (SealKeyStore); the binary caches' master key, read or made at the first pod "
            + "that uses a cache (CacheKeyStore)")));
    if (leaderElection) {
      rules.add(new Rule(Scope.OPERATOR_OWN_NAMESPACE, "coordination.k8s.io", "leases", List.of(),
          List.of("create"), "leader election: the Lease is created by the first replica"));
      rules.add(new Rule(Scope.OPERATOR_OWN_NAMESPACE, "coordination.k8s.io", "leases", List.of(leaseName),
          List.of("get", "update", "patch"), "leader election: the Lease is read, taken over and renewed (patch, "
          + "fabric8's LeaderElector); JOSDK checks update at start-up"));
    }
    rules.addAll(List.of(
        new Rule(Scope.REPORT_API, "ci.nixek.dev", "nixekjobs", List.of(), List.of("get", "list", "watch"),
            "every report re-reads its job (get); the token records in the jobs' status, watched (TokenRecords: "
            + "list, watch); /readyz lists one job (list)"),
        new Rule(Scope.REPORT_API, "ci.nixek.dev", "nixekjobs/status", List.of(), List.of("patch"),
            "status.steps, JSON patch with a resourceVersion precondition (StepsWriter)"),
        new Rule(Scope.REPORT_API, "ci.nixek.dev", "nixekrepositories", List.of(), List.of("list", "watch"),
            "webhooks: the repositories and their sealed webhook secrets, watched (WebhookRepositories)"),
        new Rule(Scope.REPORT_API, "ci.nixek.dev", "nixekrepositories/status", List.of(), List.of("patch"),
            "webhooks: status.webhook, merge patch after a verified delivery (WebhookStatusWriter)"),
        new Rule(Scope.REPORT_API_OWN_NAMESPACE, "", "secrets", List.of(sealKeySecret), List.of("get"),
            "the seal key, read by name to open a job's sealed secrets for its agent (SecretsHandler)")));
    return List.copyOf(rules);
  }

  public static List<Rule> rules(String tokenKeySecret, String leaseName) {
    return rules(tokenKeySecret, leaseName, true);
  }
}
