package dev.nixek.ci.report;

import dev.nixek.ci.common.token.JobTokens;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Who may read a job's logs: the cluster decides. The caller's bearer token is checked with a TokenReview (any
 * authenticator the API server trusts: ServiceAccount tokens, OIDC, webhook, static tokens), then the user it names
 * is checked with a SubjectAccessReview for {@code get} on {@code nixekjobs/log} of the job (group
 * {@code ci.nixek.dev}, resource name = the job's name). No user database of its own.
 *
 * <p>Answers, denials included, are reused for {@link #TTL} (bounded to {@link #MAX_ENTRIES} each), so a follower
 * reconnecting costs no API call, and a revoked token or right takes effect within it. Tokens are kept only as their
 * SHA-256, and never logged.
 */
final class LogReaders {
  static final String GROUP = "ci.nixek.dev";
  static final String RESOURCE = "nixekjobs";
  static final String SUBRESOURCE = "log";
  static final String VERB = "get";
  /** Long enough to make reconnects free, short enough that a revoked right stops reading soon. */
  static final Duration TTL = Duration.ofSeconds(10);
  static final int MAX_ENTRIES = 4096;

  /** A caller the API server authenticated (what the SubjectAccessReview needs of it). */
  record User(String name, String uid, List<String> groups, Map<String, List<String>> extra) {}

  /** The TokenReview's answer: a user, or why not. */
  record Authentication(User user, String error) {
    boolean authenticated() {
      return user != null;
    }
  }

  private final KubernetesClient client;
  private final TtlCache<String, Authentication> users;
  private final TtlCache<String, Boolean> rights;

  LogReaders(KubernetesClient client, LongSupplier nanoClock) {
    this.client = client;
    this.users = new TtlCache<>(TTL, MAX_ENTRIES, nanoClock);
    this.rights = new TtlCache<>(TTL, MAX_ENTRIES, nanoClock);
  }

  /**
   * The user the token belongs to, or why the API server refused it. Blocking (one TokenReview unless cached);
   * a failing API throws {@link io.fabric8.kubernetes.client.KubernetesClientException} (503 to the caller).
   */
  Authentication authenticate(String token) {
    String key = JobTokens.sha256Hex(token);
    return users.get(key).orElseGet(() -> {
      TokenReview review = client.authentication().v1().tokenReviews().create(new TokenReviewBuilder()
          .withNewSpec().withToken(token).endSpec().build());
      Authentication a = answer(review);
      users.put(key, a);
      return a;
    });
  }

  private static Authentication answer(TokenReview review) {
    var status = review.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated()) || status.getUser() == null) {
      String why = status == null || status.getError() == null || status.getError().isBlank()
          ? "the Kubernetes API server did not accept the bearer token" : status.getError();
      return new Authentication(null, why);
    }
    UserInfo u = status.getUser();
    return new Authentication(new User(u.getUsername(), u.getUid(),
        u.getGroups() == null ? List.of() : List.copyOf(u.getGroups()),
        u.getExtra() == null ? Map.of() : Map.copyOf(u.getExtra())), null);
  }

  /** Whether the token was authenticated within the TTL (no API call): such a caller is not throttled. */
  boolean recentlyAuthenticated(String token) {
    return users.get(JobTokens.sha256Hex(token)).map(Authentication::authenticated).orElse(false);
  }

  /** Whether {@code user} may {@code get nixekjobs/log} of job {@code namespace/name}; one SubjectAccessReview. */
  boolean mayRead(User user, String token, String namespace, String name) {
    return mayGet(user, token, namespace, name, SUBRESOURCE);
  }

  /** Whether {@code user} may {@code get nixekjobs/<subresource>} of the job (e.g. {@code artifacts}). */
  boolean mayGet(User user, String token, String namespace, String name, String subresource) {
    // keyed by the token too: two tokens of one user name may carry different groups
    String key = JobTokens.sha256Hex(token) + "/" + namespace + "/" + name + "/" + subresource;
    return rights.get(key).orElseGet(() -> {
      SubjectAccessReview review = client.authorization().v1().subjectAccessReview().create(
          new SubjectAccessReviewBuilder().withNewSpec()
              .withUser(user.name())
              .withUid(user.uid())
              .withGroups(user.groups())
              .withExtra(user.extra())
              .withNewResourceAttributes()
                  .withNamespace(namespace)
                  .withVerb(VERB)
                  .withGroup(GROUP)
                  .withResource(RESOURCE)
                  .withSubresource(subresource)
                  .withName(name)
              .endResourceAttributes()
              .endSpec().build());
      boolean allowed = review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed());
      rights.put(key, allowed);
      return allowed;
    });
  }
}
