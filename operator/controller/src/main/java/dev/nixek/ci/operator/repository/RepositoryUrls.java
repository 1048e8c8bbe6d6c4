package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepositoryForge;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/** What follows from a repository's clone URL: its flake reference, its owner/name, its forge API's URL. */
public final class RepositoryUrls {
  private RepositoryUrls() {}

  /** The flake reference (without a revision) of the clone URL: {@code git+} and the URL. */
  public static String flakeUrl(String cloneUrl) {
    return "git+" + cloneUrl;
  }

  /** {@code owner/name}: the last two path segments, without {@code .git}. */
  public static Optional<String> ownerAndName(String cloneUrl) {
    String path;
    try {
      path = new URI(cloneUrl).getPath();
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    if (path == null) {
      return Optional.empty();
    }
    String p = path.replaceAll("/+$", "");
    if (p.endsWith(".git")) {
      p = p.substring(0, p.length() - 4);
    }
    String[] segments = p.split("/");
    if (segments.length < 3 || segments[segments.length - 1].isEmpty() || segments[segments.length - 2].isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(segments[segments.length - 2] + "/" + segments[segments.length - 1]);
  }

  /**
   * The forge API's base URL: spec.forge.apiUrl, else {@code https://api.github.com} for github.com, else (gitea)
   * the clone URL's scheme, host and port with {@code /api/v1}; empty when none can be derived (file://, ssh://).
   */
  public static Optional<String> apiUrl(NixekRepositoryForge forge, String cloneUrl) {
    if (forge.apiUrl != null && !forge.apiUrl.isBlank()) {
      return Optional.of(forge.apiUrl);
    }
    URI u;
    try {
      u = new URI(cloneUrl);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    if (!"https".equals(u.getScheme()) && !"http".equals(u.getScheme())) {
      return Optional.empty();
    }
    if (NixekRepositoryForge.GITHUB.equals(forge.kind)) {
      return "github.com".equalsIgnoreCase(u.getHost()) ? Optional.of("https://api.github.com") : Optional.empty();
    }
    return Optional.of(u.getScheme() + "://" + u.getRawAuthority() + "/api/v1");
  }
}
