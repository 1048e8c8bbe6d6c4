package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** The forge hosting a repository: which API it speaks and where. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekRepositoryForge {
  /** GitHub. */
  public static final String GITHUB = "github";
  /** Gitea or Forgejo. */
  public static final String GITEA = "gitea";

  /** Which forge API. */
  @JsonPropertyDescription("The forge's API: github (GitHub, GitHub Enterprise) or gitea (Gitea, Forgejo).")
  @Required
  @Pattern("^(github|gitea)$")
  public String kind;

  /** The forge API's base URL, when it cannot be derived from the clone URL. */
  @JsonPropertyDescription("Base URL of the forge's REST API, e.g. https://git.example.com/api/v1 or "
      + "https://github.example.com/api/v3. Defaults to https://api.github.com for a github.com clone URL and to "
      + "<scheme>://<host>/api/v1 of the clone URL for gitea.")
  @Size(max = 2048)
  @Pattern("^https?://[A-Za-z0-9\\[][^\\s\"\\\\]*$")
  public String apiUrl;
}
