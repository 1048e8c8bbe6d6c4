package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Whether a repository's pull requests are built, and those from forks. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekRepositoryPullRequests {
  /** Build open pull requests. */
  @JsonPropertyDescription("Build the head commit of every open pull request (refs/pull/<n>/head). Default true.")
  public Boolean enabled;

  /** Build pull requests from forks too. */
  @JsonPropertyDescription("Build pull requests whose head is in another repository (a fork) too. Default false: a "
      + "fork's author need not have write access, and its jobs would run their code on the cluster's machines "
      + "(docs/repositories.md). Fork jobs never get the repository's spec.secrets.")
  public Boolean forks;
}
