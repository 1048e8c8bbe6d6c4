package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The nudge is one PATCH of the status subresource and nothing else: the report API may list and watch repositories
 * but not get them, so a GET first (fabric8's patch of a bare name does one) is refused on a real cluster.
 */
@EnableKubernetesMockClient
class WebhookStatusWriterTest {
  static KubernetesClient client;
  static KubernetesMockServer server;

  @Test
  void theNudgeIsOnePatchOfTheStatusWithTheUidAsPrecondition() throws Exception {
    String path = "/apis/ci.nixek.dev/v1alpha1/namespaces/ci/nixekrepositories/app/status";
    server.expect().patch().withPath(path).andReturn(200, "{\"apiVersion\":\"ci.nixek.dev/v1alpha1\","
        + "\"kind\":\"NixekRepository\",\"metadata\":{\"name\":\"app\",\"namespace\":\"ci\"}}").once();
    int before = server.getRequestCount();
    new WebhookStatusWriter(client).write(new WebhookNudges.Nudge(new WebhookRepository("ci", "app", "uid-1",
        List.of(), false, false, null), "d-1", "push", "refs/heads/main", Instant.parse("2026-12-07T00:00:00Z")));

    assertThat(server.getRequestCount() - before).isEqualTo(1);
    var request = server.getLastRequest();
    assertThat(request.getMethod()).isEqualTo("PATCH");
    assertThat(request.getPath()).isEqualTo(path);
    assertThat(request.getHeader("Content-Type")).startsWith("application/merge-patch+json");
    assertThat(request.getBody().readUtf8()).isEqualTo("{\"metadata\":{\"uid\":\"uid-1\"},\"status\":{\"webhook\":"
        + "{\"deliveryId\":\"d-1\",\"event\":\"push\",\"ref\":\"refs/heads/main\","
        + "\"receivedAt\":\"2026-12-07T00:00:00Z\"}}}");
  }
}
