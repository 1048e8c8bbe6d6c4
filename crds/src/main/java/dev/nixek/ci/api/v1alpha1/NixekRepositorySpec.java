package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/**
 * Which repository to build, which of its refs, and with what: the operator lists the heads with {@code git
 * ls-remote} every {@code pollInterval} and when the report API records a webhook delivery, and makes each new head
 * commit's jobs (docs/repositories.md). Defaults are applied by the operator, not the schema, and named in each
 * field's description.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.pollInterval) || (duration(self.pollInterval) >= duration('10s') "
    + "&& duration(self.pollInterval) <= duration('24h'))", fieldPath = ".pollInterval",
    message = "spec.pollInterval must be between 10s and 24h")
@ValidationRule(value = "!self.url.startsWith('ssh://')", fieldPath = ".url",
    message = "spec.url: ssh:// is not supported: no SSH key is delivered to the operator, the commit evaluation or "
        + "the checkout; use the repository's https:// clone URL with spec.tokenSecretRef")
public class NixekRepositorySpec {
  /** Default {@link #attribute}. */
  public static final String DEFAULT_ATTRIBUTE = "ci.jobs";
  /** Default {@link #pollInterval}. */
  public static final String DEFAULT_POLL_INTERVAL = "5m";
  /** Default {@link #keepCommits}. */
  public static final int DEFAULT_KEEP_COMMITS = 10;

  /** The clone URL. */
  @JsonPropertyDescription("Clone URL of the repository: https://host/owner/repo(.git), http:// (a token then "
      + "crosses the network in clear: only inside a trusted network), or file:// (only when the operator allows "
      + "local repositories, for tests). ssh:// is refused: no SSH key is delivered; a private repository is "
      + "fetched over https with spec.tokenSecretRef.")
  @Required
  @Size(min = 1, max = 2048)
  @Pattern("^(https?://[A-Za-z0-9\\[]|ssh://([A-Za-z0-9._~-]+@)?[A-Za-z0-9\\[]|file:///)[^\\s\"'\\\\$`?#]*$")
  public String url;

  /** The forge the repository is on. */
  @JsonPropertyDescription("The forge the repository is on: its kind and API URL (pull requests, commit statuses).")
  @Required
  public NixekRepositoryForge forge;

  /** Branch names or globs to build. */
  @JsonPropertyDescription("Branches to build: names or globs (* matches within a path segment, ** across), e.g. "
      + "main, release/*. Default: the repository's default branch (its HEAD).")
  @Size(max = 64)
  public List<@Size(min = 1, max = 255) @Pattern("^[A-Za-z0-9*][A-Za-z0-9._/*+-]*$") String> branches;

  /** Whether to build pull requests. */
  @JsonPropertyDescription("Pull requests to build. Default: open pull requests from the repository itself, not "
      + "from forks.")
  public NixekRepositoryPullRequests pullRequests;

  /** The flake attribute holding the jobs. */
  @JsonPropertyDescription("Attribute path in the flake's outputs of the attribute set of jobs: each attribute of it "
      + "is one job (a NixekJob per commit). Default ci.jobs.")
  @Size(max = 512)
  @Pattern("^[A-Za-z_][A-Za-z0-9_'-]*(\\.[A-Za-z_][A-Za-z0-9_'-]*)*$")
  public String attribute;

  /** The forge token. */
  @JsonPropertyDescription("Secret key holding a forge access token: used to clone a private repository over "
      + "https, to read pull requests and to post commit statuses. Never copied into a job, status, Event or log.")
  public NixekSecretKeyRef tokenSecretRef;

  /** The webhook secret. */
  @JsonPropertyDescription("Secret key holding the webhook secret the forge signs deliveries with "
      + "(X-Hub-Signature-256). Without it, webhooks are refused and only polling finds new commits.")
  public NixekSecretKeyRef webhookSecretRef;

  /** How often to list the heads. */
  @JsonPropertyDescription("How often the heads are listed (git ls-remote) even without a webhook: a duration "
      + "between 10s and 24h, e.g. 30s, 5m, 1h. Default 5m.")
  @Pattern("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$")
  @Size(max = 32)
  public String pollInterval;

  /** Cancel an older commit's unfinished jobs when a branch or pull request moves on. */
  @JsonPropertyDescription("When a branch or pull request gets a new head commit, cancel (spec.cancel) the "
      + "unfinished jobs of its earlier commits. Default true.")
  public Boolean cancelSuperseded;

  /** How many commits' jobs to keep per branch or pull request. */
  @JsonPropertyDescription("How many commits' jobs are kept per branch or pull request, newest first; older "
      + "commits' jobs are deleted. Default 10.")
  @Min(1)
  @Max(1000)
  public Integer keepCommits;

  /** The job secrets this repository's jobs may use. */
  @JsonPropertyDescription("Names of the Secrets (in this namespace, labelled ci.nixek.dev/job-secret: \"true\") "
      + "whose keys this repository's jobs may use (docs/secrets.md). Jobs of fork pull requests get none.")
  @Size(max = 64)
  public List<@Size(min = 1, max = 253) @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$") String> secrets;
}
