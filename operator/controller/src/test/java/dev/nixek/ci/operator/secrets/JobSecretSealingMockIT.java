package dev.nixek.ci.operator.secrets;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.common.seal.SealKey;
import dev.nixek.ci.common.seal.Sealer;
import dev.nixek.ci.common.secrets.SealedJobSecrets;
import dev.nixek.ci.common.status.ObjectBudget;
import dev.nixek.ci.operator.config.JobSecretOptions;
import dev.nixek.ci.operator.forge.CheckoutCredentials;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The sealed secrets stay within their share of the job's status ({@link ObjectBudget#SEALED_SECRETS_MAX_BYTES}): a job
 * at NIXEK_JOB_SECRETS_MAX_BYTES in one value is sealed; one whose many short values under long names would seal to
 * more is refused, before anything is written, with a message naming no value.
 */
@EnableKubernetesMockClient(crud = true)
class JobSecretSealingMockIT {
  static KubernetesClient client;
  private static final String NS = "team";
  private final Sealer sealer = new Sealer(SealKey.random());
  private final JobSecretSealing sealing = new JobSecretSealing(client, () -> sealer,
      new JobSecretOptions("seal", 16 * 1024), job -> Optional.empty(), CheckoutCredentials.none());

  private void secret(String name, java.util.Map<String, byte[]> data) {
    var b = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NS)
        .addToLabels(JobSecretSealing.OPT_IN_LABEL, "true").endMetadata();
    data.forEach((k, v) -> b.addToData(k, Base64.getEncoder().encodeToString(v)));
    client.secrets().inNamespace(NS).resource(b.build()).createOr(r -> r.update());
  }

  private static NixekJob job(String name, List<NixekSecretUse> uses) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace(NS).withName(name).withUid("uid-" + name).build());
    job.setSpec(new NixekJobSpec());
    NixekJobStep step = new NixekJobStep();
    step.name = "use";
    step.run = "true";
    step.secrets = uses;
    job.getSpec().steps = List.of(step);
    return job;
  }

  @Test
  void aJobAtTheValueLimitIsSealedWithinItsShareOfTheStatus() {
    String key = "k".repeat(253);
    byte[] value = new byte[16 * 1024];
    new java.util.Random(1).nextBytes(value);
    secret("s".repeat(253), java.util.Map.of(key, value));
    NixekJob job = job("at-limit", List.of(new NixekSecretUse("BIG", new NixekSecretKeyRef("s".repeat(253), key),
        "file")));

    JobSecretSealing.Outcome outcome = sealing.seal(job, 1);

    assertThat(outcome).isInstanceOf(JobSecretSealing.Outcome.Sealed.class);
    String sealed = ((JobSecretSealing.Outcome.Sealed) outcome).sealed();
    assertThat(sealed.length()).isLessThanOrEqualTo(ObjectBudget.SEALED_SECRETS_MAX_BYTES);
    assertThat(SealedJobSecrets.open(sealer, sealed, SealedJobSecrets.context(NS, "at-limit", "uid-at-limit", 1))
        .get("s".repeat(253) + "/" + key)).isEqualTo(value);
  }

  @Test
  void manyShortValuesUnderLongNamesThatWouldSealPastTheShareAreRefused() {
    // 64 values of 200 bytes (12,800 bytes: under the value limit) under 400-character names
    List<NixekSecretUse> uses = new ArrayList<>();
    java.util.Map<String, byte[]> data = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 64; i++) {
      String key = String.format("%03d", i) + "k".repeat(150);
      data.put(key, ("v" + i + "-").repeat(100).substring(0, 200).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      uses.add(new NixekSecretUse("V" + i, new NixekSecretKeyRef("many-" + "m".repeat(240), key), "env"));
    }
    secret("many-" + "m".repeat(240), data);
    NixekJob job = job("many", uses);

    JobSecretSealing.Outcome outcome = sealing.seal(job, 1);

    assertThat(outcome).isInstanceOf(JobSecretSealing.Outcome.Refused.class);
    String message = ((JobSecretSealing.Outcome.Refused) outcome).message();
    assertThat(message).startsWith("spec.secrets: the job's secrets, sealed with their names, come to ")
        .endsWith("more than the " + ObjectBudget.SEALED_SECRETS_MAX_BYTES + " its status has room for: use fewer "
            + "values (a file can hold several)").doesNotContain("v1-v1");
  }
}
