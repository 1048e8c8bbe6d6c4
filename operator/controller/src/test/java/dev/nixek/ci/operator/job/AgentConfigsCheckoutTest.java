package dev.nixek.ci.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekSecretKeyRef;
import dev.nixek.ci.api.v1alpha1.NixekSecretUse;
import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent's config of a job with a source: the checkout first, as the agent's own step, then the job's steps. */
class AgentConfigsCheckoutTest {
  private static final String REV = "0123456789abcdef0123456789abcdef01234567";

  @Test
  void theCheckoutIsStepZeroWithItsSourceAndNothingOfTheJobsEnvOrSecrets() throws Exception {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("hello").withUid("uid-1").build());
    job.setSpec(new NixekJobSpec());
    NixekJobStep build = new NixekJobStep();
    build.name = "build";
    build.run = "make";
    job.getSpec().steps = List.of(build);
    job.getSpec().machineImageName = "m";
    job.getSpec().env = Map.of("MODE", "ci");
    NixekSecretUse use = new NixekSecretUse();
    use.name = "DEPLOY_KEY";
    use.secretRef = new NixekSecretKeyRef("deploy", "key");
    job.getSpec().secrets = List.of(use);
    job.getSpec().source = new NixekJobSource("https://git.example.com/org/hello.git", REV);
    job.getSpec().source.submodules = true;

    AgentConfig config = AgentConfigs.forJob(job, URI.create("https://report.example.com/"), "nxkjt_x", true);

    assertThat(config.steps()).extracting(AgentStep::name).containsExactly("checkout", "build");
    AgentStep checkout = config.steps().get(0);
    assertThat(checkout.isCheckout()).isTrue();
    assertThat(checkout.source().url()).isEqualTo("https://git.example.com/org/hello.git");
    assertThat(checkout.source().rev()).isEqualTo(REV);
    assertThat(checkout.source().withSubmodules()).isTrue();
    assertThat(checkout.run()).isNull();
    assertThat(checkout.command()).isNull();
    assertThat(checkout.env()).isNull();
    assertThat(checkout.secrets()).isNull();
    assertThat(config.steps().get(1).env()).containsEntry("MODE", "ci");
    // the wire form the agent reads: type and source, no argv
    String json = Json.mapper().writeValueAsString(checkout);
    assertThat(Json.mapper().readTree(json).fieldNames()).toIterable()
        .containsExactlyInAnyOrder("name", "type", "source");
  }
}
