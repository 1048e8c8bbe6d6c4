package dev.nixek.ci.operator.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.operator.config.OperatorConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the evaluation pod may fetch (allowed-uris) and whether it may build (docs/evaluation.md#the-sandbox). */
class EvaluationSandboxArgumentsTest {

  private static List<String> command(OperatorConfig config, NixekJob job) {
    return new EvaluationPods(config).pod(job).getSpec().getContainers().get(0).getCommand();
  }

  private static NixekJob flakeJob(String url) {
    NixekJob job = EvaluationPodsTest.job("f");
    job.getSpec().nix = null;
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = url;
    job.getSpec().flake.rev = "b".repeat(40);
    return job;
  }

  @Test
  void theFlakeThePinAndTheConfiguredExtrasEachOnceAndNoImportFromDerivation() {
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", EvaluationPodsTest.PIN,
        "NIXEK_EVAL_ALLOWED_URIS", "https://files.example.com/ci, github:, " + EvaluationPodsTest.PIN));
    assertThat(command(config, flakeJob("git+https://git.example.com/org/repo")))
        .containsSubsequence("--allowed-uris", "git+https://git.example.com/org/repo " + EvaluationPodsTest.PIN
            + " https://files.example.com/ci github:")
        .doesNotContain("--allow-import-from-derivation");
    // an inline job has no flake; a nixpkgs path is read, not fetched (the evaluate command allows the path)
    OperatorConfig path = OperatorConfig.fromEnv(Map.of("NIXEK_IMAGE_NIXPKGS", "/srv/nixpkgs"));
    assertThat(command(path, EvaluationPodsTest.job("i"))).doesNotContain("--allowed-uris");
  }

  @Test
  void importFromDerivationOnlyWhenAllowed() {
    OperatorConfig allowed = OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION", "true"));
    assertThat(command(allowed, EvaluationPodsTest.job("i"))).contains("--allow-import-from-derivation");
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION", "yes")))
        .hasMessageContaining("NIXEK_EVAL_ALLOW_IMPORT_FROM_DERIVATION");
  }

  @Test
  void anExtraThatIsNoUriPrefixIsRefusedAtStart() {
    assertThatThrownBy(() -> OperatorConfig.fromEnv(Map.of("NIXEK_EVAL_ALLOWED_URIS", "https://ok, files.example")))
        .hasMessageContaining("NIXEK_EVAL_ALLOWED_URIS").hasMessageContaining("'files.example' is not a URI prefix");
  }
}
