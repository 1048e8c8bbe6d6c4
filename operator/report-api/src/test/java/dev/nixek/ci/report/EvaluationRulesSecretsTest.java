package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.EvaluationResult;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.StepSecret;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A Nix job's secrets (names and refs, as nix/eval.nix prints them) become its evaluated steps' secrets. */
class EvaluationRulesSecretsTest {
  @Test
  void refsBecomeSecretRefsAndBadOnesAre422WithTheField() throws Exception {
    // what nix/lib/job.nix prints for { secrets = { DEPLOY_KEY = "deploy/key"; }; steps = [ ... ]; }
    EvaluationResult posted = Json.mapper().readValue("""
        {"machine": null, "steps": [{"name": "a", "run": "true",
          "secrets": [{"as": "file", "name": "CERT", "ref": "tls/cert.pem"}, {"as": "env", "name": "DEPLOY_KEY",
          "ref": "deploy/key"}]}]}""", EvaluationResult.class);
    EvaluationRules.Checked ok = EvaluationRules.check(posted);
    assertThat(ok.rejected()).isNull();
    assertThat(ok.evaluation().steps.get(0).secrets).extracting(u -> u.name, u -> u.secretRef.name,
        u -> u.secretRef.key, u -> u.as).containsExactly(
            org.assertj.core.groups.Tuple.tuple("CERT", "tls", "cert.pem", "file"),
            org.assertj.core.groups.Tuple.tuple("DEPLOY_KEY", "deploy", "key", "env"));

    for (StepSecret bad : List.of(new StepSecret("X", "noslash", "env"), new StepSecret("X", "a/b", "stdin"),
        new StepSecret("1X", "a/b", "env"))) {
      EvaluationRules.Checked refused = EvaluationRules.check(new EvaluationResult(List.of(
          new AgentStep("a", "true", null, null, null, List.of(bad))), null));
      assertThat(refused.rejected()).as(bad.toString()).isNotNull();
      assertThat(refused.rejected().message()).contains("steps[0].secrets[0]");
    }
  }
}
