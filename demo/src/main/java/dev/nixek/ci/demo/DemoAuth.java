package dev.nixek.ci.demo;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributes;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewStatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The embedded API server's answers to the report API's TokenReview and SubjectAccessReview (the mock in CRUD mode
 * has no authenticator or authorizer): one demo user, known by a credential made fresh for this run and written
 * into the demo's kubeconfig, may get nixekjobs/log; every other token is unauthenticated and every other question
 * denied. This lives in the demo's mock only: the report API asks the same questions of it as of a real cluster.
 */
final class DemoAuth {
  static final String USER = "nixek-demo";

  private final String credential;

  DemoAuth() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    this.credential = "demo-" + HexFormat.of().formatHex(b);
  }

  /** The bearer token of the demo's kubeconfig. */
  String credential() {
    return credential;
  }

  void install(KubernetesMockServer mock) {
    mock.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(201, request -> tokenReview(Serialization.unmarshal(request.getUtf8Body(), TokenReview.class)))
        .always();
    mock.expect().post().withPath("/apis/authorization.k8s.io/v1/subjectaccessreviews")
        .andReply(201, request -> accessReview(Serialization.unmarshal(request.getUtf8Body(),
            SubjectAccessReview.class)))
        .always();
  }

  TokenReview tokenReview(TokenReview review) {
    boolean ok = review.getSpec() != null && credential.equals(review.getSpec().getToken());
    // the answer never echoes the token
    review.getSpec().setToken(null);
    review.setStatus(ok
        ? new TokenReviewStatusBuilder().withAuthenticated(true).withNewUser().withUsername(USER)
            .withGroups(List.of("system:authenticated")).endUser().build()
        : new TokenReviewStatusBuilder().withAuthenticated(false).withError("unknown demo credential").build());
    return review;
  }

  static SubjectAccessReview accessReview(SubjectAccessReview review) {
    ResourceAttributes r = review.getSpec() == null ? null : review.getSpec().getResourceAttributes();
    boolean ok = r != null && USER.equals(review.getSpec().getUser()) && "get".equals(r.getVerb())
        && "ci.nixek.dev".equals(r.getGroup()) && "nixekjobs".equals(r.getResource()) && "log".equals(r.getSubresource());
    review.setStatus(new SubjectAccessReviewStatusBuilder().withAllowed(ok)
        .withReason(ok ? "the demo user reads every job's log" : "the demo allows only get nixekjobs/log").build());
    return review;
  }
}
