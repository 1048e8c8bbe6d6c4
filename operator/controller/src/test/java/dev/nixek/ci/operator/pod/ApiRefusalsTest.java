package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ApiRefusalsTest {
  @Test
  void theApiServersOwnMessage() {
    KubernetesClientException e = new KubernetesClientException("Failure executing: POST at: https://... Message: "
        + "long", 403, new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("pods \"p\" is "
            + "forbidden: error looking up service account ci/default: serviceaccount \"default\" not found").build());
    assertThat(ApiRefusals.message(e, null)).isEqualTo("pods \"p\" is forbidden: error looking up service account "
        + "ci/default: serviceaccount \"default\" not found");
  }

  @Test
  void noAnswerSaysWhatWentWrongOnTheWay() {
    KubernetesClientException e = new KubernetesClientException("An error has occurred.",
        new IOException("Connection refused"));
    assertThat(ApiRefusals.message(e, null)).isEqualTo("An error has occurred.: java.io.IOException: Connection "
        + "refused");
  }

  @Test
  void theTokenBeingCreatedNeverAppears() {
    KubernetesClientException e = new KubernetesClientException("x", 422, new StatusBuilder()
        .withMessage("Secret \"s\" is invalid: data[token]: nxkev_secretvalue").build());
    assertThat(ApiRefusals.message(e, "nxkev_secretvalue")).isEqualTo("Secret \"s\" is invalid: data[token]: "
        + "<redacted>").doesNotContain("nxkev_secretvalue");
  }
}
