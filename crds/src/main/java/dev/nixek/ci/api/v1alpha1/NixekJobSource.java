package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The repository and commit a job's steps run in: the agent checks it out before the first step
 * (docs/repositories.md#source-checkout). Credentials never appear here: a job controlled by a NixekRepository gets
 * the repository's token at run time over the report API.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!self.url.matches('^https?://[^/@]*@')",
    message = "spec.source.url must not carry credentials or a user name: a job of a NixekRepository gets the "
        + "repository's token at run time")
@ValidationRule(value = "!self.url.startsWith('ssh://')", fieldPath = ".url",
    message = "spec.source.url: ssh:// is not supported: no SSH key is delivered to the checkout; use the "
        + "repository's https:// clone URL")
public class NixekJobSource {
  /**
   * What a clone URL may look like; the agent checks the same (no shell, quote or control characters). ssh:// fits
   * the shape, so that the rule above, not the pattern, refuses it with its reason.
   */
  public static final String URL_PATTERN =
      "^(https?://[A-Za-z0-9\\[]|ssh://([A-Za-z0-9._~-]+@)?[A-Za-z0-9\\[]|file:///)[^\\s\"'\\\\$`?#]*$";

  /** The clone URL. */
  @JsonPropertyDescription("Clone URL of the repository (as a NixekRepository's spec.url), without credentials: a "
      + "private repository is cloned over https with the repository's token, fetched by the agent at run time. "
      + "https://, http:// or file:///; ssh:// is refused (no SSH key is delivered).")
  @Required
  @Size(min = 1, max = 2048)
  @Pattern(URL_PATTERN)
  public String url;

  /** The commit to check out. */
  @JsonPropertyDescription("The commit to check out: a full hash (40 or 64 hex digits), fetched shallowly (depth 1) "
      + "into the steps' working directory before the first step.")
  @Required
  @Pattern("^([0-9a-f]{40}|[0-9a-f]{64})$")
  public String rev;

  /** Whether submodules are checked out too. */
  @JsonPropertyDescription("Also check out the commit's submodules (recursively, shallow). Default false.")
  public Boolean submodules;

  public NixekJobSource() {}

  public NixekJobSource(String url, String rev) {
    this.url = url;
    this.rev = rev;
  }
}
