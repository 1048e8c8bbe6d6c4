package dev.nixek.ci.common.secrets;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class SecretUsesTest {
  private static NixekSecretUse use(String name, String secret, String key, String as) {
    return new NixekSecretUse(name, new NixekSecretKeyRef(secret, key), as);
  }

  private static NixekJobStep step(String name, NixekSecretUse... secrets) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = "true";
    s.secrets = secrets.length == 0 ? null : new ArrayList<>(List.of(secrets));
    return s;
  }

  @Test
  void aStepGetsTheJobsSecretsWithItsOwnWinningByName() {
    List<NixekSecretUse> job = List.of(use("A", "s", "a", null), use("B", "s", "b", "file"));
    List<NixekSecretUse> got = SecretUses.forStep(job, step("x", use("B", "other", "k", "env"), use("C", "s", "c", null)));
    assertThat(got).extracting(u -> u.name, u -> u.secretRef.ref(), NixekSecretUse::asOrDefault).containsExactly(
        Assertions.tuple("A", "s/a", "env"), Assertions.tuple("B", "other/k", "env"),
        Assertions.tuple("C", "s/c", "env"));
    assertThat(SecretUses.forStep(null, step("y"))).isEmpty();
  }

  @Test
  void refsAreEveryEntryOnceWithTheFieldThatNamesItFirstExplicitAndEvaluated() {
    NixekJob j = new NixekJob();
    j.setMetadata(new ObjectMetaBuilder().withName("j").withNamespace("ns").build());
    j.setSpec(new NixekJobSpec());
    j.getSpec().machineImageName = "img";
    j.getSpec().secrets = List.of(use("A", "s", "a", null));
    j.getSpec().steps = List.of(step("one"), step("two", use("A2", "s", "a", null), use("B", "t", "b", "file")));
    assertThat(SecretUses.refs(j)).containsExactly(
        Map.entry(new NixekSecretKeyRef("s", "a"), "spec.secrets[0].secretRef"),
        Map.entry(new NixekSecretKeyRef("t", "b"), "spec.steps[1].secrets[1].secretRef"));
    assertThat(SecretUses.secretNames(j)).containsExactly("s", "t");

    NixekJob nix = new NixekJob();
    nix.setMetadata(new ObjectMetaBuilder().withName("n").withNamespace("ns").build());
    nix.setSpec(new NixekJobSpec());
    nix.getSpec().nix = "{ }";
    assertThat(SecretUses.refs(nix)).as("not evaluated yet").isEmpty();
    nix.setStatus(new NixekJobStatus());
    nix.getStatus().evaluation = new NixekJobEvaluation();
    nix.getStatus().evaluation.steps = List.of(step("a", use("X", "u", "k", null)));
    assertThat(SecretUses.refs(nix)).containsExactly(
        Map.entry(new NixekSecretKeyRef("u", "k"), "status.evaluation.steps[0].secrets[0].secretRef"));
  }

  @Test
  void rulesNameTheFieldForEachKindOfMistake() {
    assertThat(SecretUses.validate(List.of(use("1A", "s", "k", null)), "spec.secrets")).get()
        .extracting(StepRules.Problem::field).isEqualTo("spec.secrets[0].name");
    assertThat(SecretUses.validate(List.of(use("A", "s", "k", null), use("A", "t", "k", null)), "spec.secrets"))
        .get().extracting(StepRules.Problem::message).isEqualTo("spec.secrets[1].name: duplicate name A");
    assertThat(SecretUses.validate(List.of(use("A", "S_bad", "k", null)), "x")).get()
        .extracting(StepRules.Problem::field).isEqualTo("x[0].secretRef.name");
    assertThat(SecretUses.validate(List.of(use("A", "s", "k/ey", null)), "x")).get()
        .extracting(StepRules.Problem::field).isEqualTo("x[0].secretRef.key");
    assertThat(SecretUses.validate(List.of(use("A", "s", "k", "stdin")), "x")).get()
        .extracting(StepRules.Problem::message).isEqualTo("x[0].as: must be env or file");
    assertThat(SecretUses.validate(List.of(new NixekSecretUse("A", null, null)), "x")).get()
        .extracting(StepRules.Problem::field).isEqualTo("x[0].secretRef");
    assertThat(SecretUses.validate(List.of(use("A", "s", "k", "file"), use("_b2", "s.x", "k.pem", "env")), "x"))
        .isEmpty();
    // the step rules carry them, for explicit and evaluated steps alike
    assertThat(StepRules.validate(List.of(step("a", use("A", "s", "k", "x"))), "status.evaluation.steps")).get()
        .extracting(StepRules.Problem::field).isEqualTo("status.evaluation.steps[0].secrets[0].as");
  }

  @Test
  void sealedValuesOpenOnlyForTheirJobAndAttempt() {
    Sealer sealer = new Sealer(SealKey.random());
    Map<String, byte[]> values = Map.of("s/a", "value-a".getBytes(StandardCharsets.UTF_8), "t/b", new byte[] {0, 1, -1});
    String ctx = SealedJobSecrets.context("ns", "j", "uid", 2);
    String sealed = SealedJobSecrets.seal(sealer, values, ctx);
    assertThat(sealed).doesNotContain("value-a").doesNotContain("dmFsdWUtYQ");
    Map<String, byte[]> opened = SealedJobSecrets.open(sealer, sealed, ctx);
    assertThat(opened).containsOnlyKeys("s/a", "t/b");
    assertThat(opened.get("t/b")).containsExactly(0, 1, -1);
    Assertions.assertThatThrownBy(() -> SealedJobSecrets.open(sealer, sealed, SealedJobSecrets.context("ns", "j", "uid",
        3))).isInstanceOf(Sealer.SealException.class);
  }
}
