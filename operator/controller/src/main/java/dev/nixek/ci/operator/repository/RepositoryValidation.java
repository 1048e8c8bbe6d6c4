package dev.nixek.ci.operator.repository;

import dev.nixek.ci.api.v1alpha1.NixekRepository;
import dev.nixek.ci.api.v1alpha1.NixekRepositorySpec;
import dev.nixek.ci.operator.config.RepositoryOptions;
import java.util.Optional;

/**
 * What the schema cannot check about a repository's spec: what this operator allows (file:// URLs) and what must
 * follow from the URL (the forge API for pull requests). The first problem, naming the field.
 */
final class RepositoryValidation {
  private RepositoryValidation() {}

  static Optional<String> problem(NixekRepository repo, RepositoryOptions options) {
    NixekRepositorySpec spec = repo.getSpec();
    if (spec == null || spec.url == null || spec.url.isBlank()) {
      return Optional.of("spec.url is required");
    }
    Optional<String> url = dev.nixek.ci.common.job.SourceUrlRules.problem(spec.url);
    if (url.isPresent()) {
      return Optional.of("spec.url: " + url.get());
    }
    if (spec.forge == null || spec.forge.kind == null) {
      return Optional.of("spec.forge.kind is required (github or gitea)");
    }
    if (spec.url.startsWith("file://") && !options.allowFileUrls()) {
      return Optional.of("spec.url: file:// repositories are not allowed by this operator ("
          + RepositoryOptions.ALLOW_FILE_URLS.key() + ")");
    }
    boolean pulls = spec.pullRequests == null || spec.pullRequests.enabled == null || spec.pullRequests.enabled;
    if (pulls && RepositoryUrls.apiUrl(spec.forge, spec.url).isEmpty()) {
      return Optional.of("spec.forge.apiUrl is required to build pull requests of " + spec.url
          + " (it is derived only for https clone URLs: github.com, or any gitea host); or set "
          + "spec.pullRequests.enabled to false");
    }
    if (pulls && RepositoryUrls.ownerAndName(spec.url).isEmpty()) {
      return Optional.of("spec.url: no owner/name in " + spec.url + " for the forge API");
    }
    return Optional.empty();
  }
}
