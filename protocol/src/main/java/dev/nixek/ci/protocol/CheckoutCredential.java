package dev.nixek.ci.protocol;

/**
 * The forge credential a checkout step clones with. It travels as one of the job's secret values
 * ({@link JobSecrets}, {@code GET} {@link ReportPaths#secrets}) under the reserved ref {@value #SECRET_REF}, which no
 * Secret can have (a Secret's name has no colon). Used as HTTP basic {@code username}:{@code token}, which GitHub
 * (username {@value #DEFAULT_USERNAME}) and Gitea (any username, the token as password) both accept for git over
 * https. {@link #toString()} never shows the token.
 */
public record CheckoutCredential(String username, String token) {
  /** Where the repository's token is among a job's secret values. */
  public static final String SECRET_REF = ":checkout/token";
  /** The username GitHub expects with an access token; Gitea accepts it too. */
  public static final String DEFAULT_USERNAME = "x-access-token";

  @Override
  public String toString() {
    return "CheckoutCredential[username=" + username + ", token=<redacted>]";
  }
}
