package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The repository and commit a job's steps run in: the agent checks it out before the first step. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobSource {
  /** The clone URL. */
  @JsonPropertyDescription("Clone URL of the repository (as a NixekRepository's spec.url).")
  @Required
  @Size(min = 1, max = 2048)
  @Pattern("^(https?://[A-Za-z0-9\\[]|ssh://([A-Za-z0-9._~-]+@)?[A-Za-z0-9\\[]|file:///)[^\\s\"'\\\\$`?#]*$")
  public String url;

  /** The commit to check out. */
  @JsonPropertyDescription("The commit to check out: a full hash (40 or 64 hex digits).")
  @Required
  @Pattern("^([0-9a-f]{40}|[0-9a-f]{64})$")
  public String rev;

  public NixekJobSource() {}

  public NixekJobSource(String url, String rev) {
    this.url = url;
    this.rev = rev;
  }
}
