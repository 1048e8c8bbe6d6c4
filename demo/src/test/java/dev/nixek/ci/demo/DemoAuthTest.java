package dev.nixek.ci.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo's embedded API server as the report API's client sees it: reviews answered, every object still CRUD. */
class DemoAuthTest {
  private final Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
  private final KubernetesMockServer mock = new KubernetesMockServer(new Context(), new MockWebServer(), expectations,
      new KubernetesMixedDispatcher(expectations), false);
  private KubernetesClient client;

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    mock.destroy();
  }

  @Test
  void theReportApisReviewsAreAnsweredAndObjectsStayCrud() {
    mock.init();
    DemoAuth auth = new DemoAuth();
    auth.install(mock);
    client = mock.createClient();
    for (int i = 0; i < 2; i++) {
      // always(), not once: every reader's review
      var ok = client.authentication().v1().tokenReviews().create(new TokenReviewBuilder().withNewSpec()
          .withToken(auth.credential()).endSpec().build());
      assertThat(ok.getStatus().getAuthenticated()).isTrue();
      assertThat(ok.getStatus().getUser().getUsername()).isEqualTo(DemoAuth.USER);
    }
    assertThat(client.authentication().v1().tokenReviews().create(new TokenReviewBuilder().withNewSpec()
        .withToken("guess").endSpec().build()).getStatus().getAuthenticated()).isFalse();
    var sar = client.authorization().v1().subjectAccessReview().create(new SubjectAccessReviewBuilder().withNewSpec()
        .withUser(DemoAuth.USER).withNewResourceAttributes().withGroup("ci.nixek.dev").withResource("nixekjobs")
        .withSubresource("log").withVerb("get").withNamespace("default").withName("hello").endResourceAttributes()
        .endSpec().build());
    assertThat(sar.getStatus().getAllowed()).isTrue();

    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("hello").build());
    client.resources(NixekJob.class).inNamespace("default").resource(job).create();
    assertThat(client.resources(NixekJob.class).inNamespace("default").withName("hello").get()).isNotNull();
  }
}
