package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** A branch or pull request of a repository: its last head commit and what was made for it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekRepositoryHead {
  /** The full ref, e.g. refs/heads/main or refs/pull/7/head. */
  @JsonPropertyDescription("The full ref: refs/heads/<branch> or refs/pull/<n>/head.")
  public String ref;

  /** The head commit. */
  @JsonPropertyDescription("The head commit (full hash).")
  public String commit;

  /** The jobs made for the commit. */
  @JsonPropertyDescription("Names of the NixekJobs made for the commit, one per job of the flake's attribute.")
  public List<String> jobs;

  /** Why the head has no jobs. */
  @JsonPropertyDescription("Why the commit has no jobs, when it has none: e.g. a pull request from a fork, a closed "
      + "pull request, or the evaluation's error.")
  public String skipped;

  /** The condition reason of why the commit got no jobs, when that is a failure. */
  @JsonPropertyDescription("When the commit got no jobs because of a problem of the commit (AttributeMissing, "
      + "NotAJobSet, TooManyJobs, CommitEvaluationFailed): that reason; the repository's Ready condition carries it "
      + "until the head moves on.")
  public String reason;

  /** When the commit was first seen. */
  @JsonPropertyDescription("When the operator first saw this commit at this ref (RFC 3339).")
  public String time;

  public NixekRepositoryHead() {}

  public NixekRepositoryHead(String ref, String commit, List<String> jobs, String skipped, String time) {
    this.ref = ref;
    this.commit = commit;
    this.jobs = jobs;
    this.skipped = skipped;
    this.time = time;
  }
}
