package dev.nixek.ci.cli;

import io.fabric8.kubernetes.client.Config;
import java.util.Optional;

/**
 * The bearer token the user's kubeconfig authenticates with (a token, an OIDC id-token, an exec credential plugin's
 * token, or a ServiceAccount token in a pod), which the logs endpoint checks with a TokenReview. A user who
 * authenticates with a client certificate only has none: the API server checked the certificate during the TLS
 * handshake, and no API can check it again for a third party.
 */
public final class UserToken {
  static final String CLIENT_CERTIFICATE_ONLY = "your kubeconfig's user authenticates with a client certificate "
      + "only; the nixek-ci logs endpoint checks Kubernetes bearer tokens (TokenReview) and cannot check a client "
      + "certificate. Use a context with a token (e.g. kubectl create token <serviceaccount>, or an OIDC/exec login)";
  static final String NONE = "your kubeconfig's user has no bearer token (a token, OIDC or exec credential plugin); "
      + "the nixek-ci logs endpoint needs one";

  private UserToken() {}

  /** The current token (asked again each time: a provider may refresh it). */
  public static Optional<String> of(Config config) {
    if (config.getOauthTokenProvider() != null) {
      return nonBlank(config.getOauthTokenProvider().getToken());
    }
    Optional<String> t = nonBlank(config.getOauthToken());
    return t.isPresent() ? t : nonBlank(config.getAutoOAuthToken());
  }

  /** Why there is no token, for the error message. */
  public static String whyNone(Config config) {
    boolean cert = config.getClientCertFile() != null || config.getClientCertData() != null;
    return cert ? CLIENT_CERTIFICATE_ONLY : NONE;
  }

  private static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.trim());
  }
}
