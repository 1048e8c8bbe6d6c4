package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The commit status the operator last posted to the forge for a job of a repository, so that a restarted operator
 * knows whether the final one still has to go out (docs/repositories.md#commit-statuses).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekForgeStatus {
  /** pending, success, failure or error. */
  @JsonPropertyDescription("The state last posted: pending, success, failure or error.")
  public String state;

  /** The description posted with it. */
  @JsonPropertyDescription("The description posted with it (at most 140 characters, as the forges keep).")
  public String description;

  /** The status context. */
  @JsonPropertyDescription("The status context, nixek-ci/<job>.")
  public String context;

  /** When the forge accepted it. */
  @JsonPropertyDescription("When the forge accepted it (RFC 3339).")
  public String postedAt;
}
