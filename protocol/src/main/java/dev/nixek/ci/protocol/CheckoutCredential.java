package dev.nixek.ci.protocol;

/**
 * The forge credential a checkout step clones with, served to the job's agent (and only to it, with the job token)
 * at run time: HTTP basic {@code username}:{@code token}, which GitHub (username {@code x-access-token}) and Gitea
 * (any username, the token as password) both accept for git over https. {@link #toString()} never shows the token.
 */
public record CheckoutCredential(String username, String token) {
  /** The username GitHub expects with an access token; Gitea accepts it too. */
  public static final String DEFAULT_USERNAME = "x-access-token";

  @Override
  public String toString() {
    return "CheckoutCredential[username=" + username + ", token=<redacted>]";
  }
}
