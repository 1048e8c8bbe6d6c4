package dev.nixek.ci.operator.forge;

/**
 * Where a job's commit statuses go: the forge {@code kind} ({@code github} or {@code gitea}), its API base URL
 * ({@code https://api.github.com}, {@code https://host/api/v3}, {@code https://gitea.example/api/v1}), the repository
 * as {@code owner/name}, the commit, and the token. {@link #toString()} never shows the token.
 */
public record ForgeTarget(String kind, String apiUrl, String repository, String commit, String token) {
  @Override
  public String toString() {
    return "ForgeTarget[" + kind + " " + apiUrl + " " + repository + "@" + commit + ", token=<redacted>]";
  }
}
