package dev.nixek.ci.operator.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.common.job.FlakeRules;
import dev.nixek.ci.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationPodsTest {
  static final String PIN = "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567";
  private static final OperatorConfig CONFIG = OperatorConfig.fromEnv(Map.of(
      "NIXEK_IMAGE_NIXPKGS", PIN,
      "NIXEK_IMAGE_SYSTEM", "aarch64-linux",
      "NIXEK_BUILDER_IMAGE", "registry.example/nixek:1",
      "NIXEK_EVAL_TIMEOUT_SECONDS", "900",
      "NIXEK_EVAL_MEMORY_LIMIT", "6Gi",
      "NIXEK_EVAL_CPU_REQUEST", "none",
      "NIXEK_REPORT_URL", "http://10.0.0.5:8080"));

  static NixekJob job(String name) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName(name).withUid("uid-1").build());
    job.setSpec(new NixekJobSpec());
    job.getSpec().nix = "{ steps = [ { name = \"a\"; run = \"true\"; } ]; }";
    return job;
  }

  @Test
  void thePodRunsTheEvaluateCommandOnceWithinItsLimitsAndWithoutAnApiToken() {
    Pod pod = new EvaluationPods(CONFIG).pod(job("hello"));
    assertThat(pod.getMetadata().getName()).isEqualTo("nixek-eval-uid-1");
    assertThat(pod.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "job-evaluation")
        .containsEntry("app.kubernetes.io/managed-by", "nixek-ci").containsEntry("ci.nixek.dev/job-uid", "uid-1");
    assertThat(pod.getMetadata().getAnnotations()).containsEntry("ci.nixek.dev/job-name", "hello");
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("NixekJob");
      assertThat(o.getUid()).isEqualTo("uid-1");
      assertThat(o.getController()).isTrue();
    });
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getServiceAccountName()).as("the namespace's default").isNull();
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).as("the builder's image by default").isEqualTo("registry.example/nixek:1");
    assertThat(c.getCommand()).containsExactly("/opt/nixek/bin/nixek", "builder", "evaluate",
        "--nix-dir", "/opt/nixek/src/nix", "--agent-jar", "/opt/nixek/nixek-agent.jar", "--job-file", "/nixek/eval/job/job.nix", "--nixpkgs", PIN,
        "--allowed-uris", PIN, "--system", "aarch64-linux", "--report-url", "http://10.0.0.5:8080", "--job", "ci/hello",
        "--token-file", "/nixek/eval/token/token", "--termination-log", "/dev/termination-log");
    assertThat(c.getEnv()).as("nothing but nix's store choice").extracting(e -> e.getName() + "=" + e.getValue())
        .containsExactly("NIX_REMOTE=local");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("6Gi");
    assertThat(c.getResources().getRequests()).containsOnlyKeys("memory", "ephemeral-storage");
    assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(pod.getSpec().getVolumes()).hasSize(3).anySatisfy(v -> {
      assertThat(v.getSecret()).isNotNull();
      assertThat(v.getSecret().getSecretName()).isEqualTo("nixek-eval-uid-1");
      assertThat(v.getSecret().getDefaultMode()).isEqualTo(0440);
    }).anySatisfy(v -> {
      assertThat(v.getConfigMap()).isNotNull();
      assertThat(v.getConfigMap().getName()).isEqualTo("nixek-eval-uid-1");
    }).anySatisfy(v -> assertThat(v.getEmptyDir()).as("a writable Nix store").isNotNull());
    // read-only but for the Nix store, where nix fetches and instantiates
    assertThat(c.getVolumeMounts()).allSatisfy(m -> assertThat(m.getReadOnly() == Boolean.TRUE)
        .isEqualTo(!m.getMountPath().equals("/nix")));
  }

  @Test
  void aFlakeJobMountsNoJobAndPinsItsRevision() {
    NixekJob job = job("hello-world");
    job.getSpec().nix = null;
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "github:org/repo";
    job.getSpec().flake.rev = "a".repeat(40);
    Pod pod = new EvaluationPods(CONFIG).pod(job);
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).containsSubsequence("--flake",
        "github:org/repo?rev=" + "a".repeat(40), "--attribute", "ci.jobs.hello-world").doesNotContain("--job-file");
    assertThat(pod.getSpec().getVolumes()).noneSatisfy(v -> assertThat(v.getConfigMap()).isNotNull());
    job.getSpec().flake.attribute = "checks.x86_64-linux.ci";
    assertThat(FlakeRules.attribute(job)).isEqualTo("checks.x86_64-linux.ci");
    assertThat(FlakeRules.subject(job)).isEqualTo("github:org/repo?rev=" + "a".repeat(40)
        + "#checks.x86_64-linux.ci");
  }

  @Test
  void theEvaluationHasItsOwnImageCommandAndReportUrlWhenConfigured() {
    OperatorConfig own = OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_IMAGE", "registry.example/eval:2",
        "NIXEK_EVAL_COMMAND", "/bin/nixek builder", "NIXEK_EVAL_REPORT_URL", "http://report.nixek-system:8080",
        "NIXEK_EVAL_SERVICE_ACCOUNT", "nixek-eval"));
    Pod pod = new EvaluationPods(own).pod(job("x"));
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example/eval:2");
    assertThat(c.getCommand()).startsWith("/bin/nixek", "builder", "evaluate").doesNotContain("--nixpkgs")
        .containsSubsequence("--report-url", "http://report.nixek-system:8080");
    OperatorConfig ownJar = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_AGENT_JAR", "/srv/nixek-agent.jar"));
    assertThat(new EvaluationPods(ownJar).pod(job("x")).getSpec().getContainers().get(0).getCommand())
        .as("the machine gets the jar the builder pod will build it with").containsSubsequence("--agent-jar",
            "/srv/nixek-agent.jar");
    assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("nixek-eval");
  }

  @Test
  void theTokenSecretAndTheConfigMapHoldWhatThePodReads() {
    EvaluationPods pods = new EvaluationPods(CONFIG);
    Secret s = pods.tokenSecret(job("x"), "nxkev_token");
    assertThat(new String(Base64.getDecoder().decode(s.getData().get("token")), StandardCharsets.US_ASCII))
        .isEqualTo("nxkev_token");
    assertThat(s.getImmutable()).isTrue();
    assertThat(s.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-1"));
    assertThat(pods.configMap(job("x")).getData()).containsExactly(Map.entry("job.nix",
        "{ steps = [ { name = \"a\"; run = \"true\"; } ]; }"));
  }

  @Test
  void aPrivateRepositorysJobPodMountsTheRepositorysTokenFromItsSecretAndNamesOnlyTheFile() throws Exception {
    String forgeToken = "gitea-" + "f0rg3".repeat(6);
    EvaluationPods pods = new EvaluationPods(CONFIG);
    NixekJob job = job("x");
    job.getSpec().nix = null;
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+https://git.example.com/org/app.git";
    job.getSpec().flake.rev = "0123456789abcdef0123456789abcdef01234567";

    Secret s = pods.tokenSecret(job, "nxkev_token", java.util.Optional.of(forgeToken));
    assertThat(new String(Base64.getDecoder().decode(s.getData().get("forge-token")), StandardCharsets.UTF_8))
        .isEqualTo(forgeToken);
    assertThat(s.getData()).containsOnlyKeys("token", "forge-token");

    Pod pod = pods.pod(job, true);
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getCommand()).containsSubsequence("--forge-token-file", "/nixek/eval/forge/token");
    assertThat(c.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo("forge-token");
      assertThat(m.getMountPath()).isEqualTo("/nixek/eval/forge");
      assertThat(m.getReadOnly()).isTrue();
    });
    assertThat(pod.getSpec().getVolumes()).filteredOn(v -> v.getSecret() != null).allSatisfy(v -> {
      assertThat(v.getSecret().getSecretName()).isEqualTo("nixek-eval-uid-1");
      assertThat(v.getSecret().getDefaultMode()).isEqualTo(0440);
      // each mount shows its own key only: the evaluation token's holds no repository token, and the reverse
      assertThat(v.getSecret().getItems()).singleElement().satisfies(i -> assertThat(i.getKey())
          .isEqualTo(v.getName().equals("forge-token") ? "forge-token" : "token"));
    }).hasSize(2);
    String spec = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(pod);
    assertThat(spec).doesNotContain(forgeToken).doesNotContain(Base64.getEncoder().encodeToString(
        forgeToken.getBytes(StandardCharsets.UTF_8)));
    assertThat(EvaluationPods.mountsForgeToken(pod)).isTrue();

    Pod without = pods.pod(job);
    assertThat(without.getSpec().getContainers().get(0).getCommand()).doesNotContain("--forge-token-file");
    assertThat(EvaluationPods.mountsForgeToken(without)).isFalse();
    assertThat(pods.tokenSecret(job, "nxkev_token").getData()).containsOnlyKeys("token");
  }

  @Test
  void aCommitEvaluationPodsSecretHoldsTheRepositorysTokenOnlyAndIsOwnedByThePod() {
    Pod pod = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("nixek-commit-abc")
        .withNamespace("ci").withUid("pod-uid").endMetadata().build();
    Secret s = EvaluationPods.forgeTokenSecret(pod, "repository-evaluation", "gitea-token-0123456789");
    assertThat(s.getMetadata().getName()).isEqualTo("nixek-commit-abc");
    assertThat(s.getMetadata().getNamespace()).isEqualTo("ci");
    assertThat(s.getData()).containsOnlyKeys("forge-token");
    assertThat(s.getImmutable()).isTrue();
    assertThat(s.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("Pod");
      assertThat(o.getApiVersion()).isEqualTo("v1");
      assertThat(o.getUid()).isEqualTo("pod-uid");
      assertThat(o.getController()).isTrue();
    });
  }
}
