package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A job (or a machine) of a flake: the flake's URL, the pinned revision, and the attribute holding the job. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!self.url.matches('[?&]rev=')",
    message = "spec.flake.url must not pin a revision itself: give it in spec.flake.rev")
public class NixekJobFlake {
  /** The flake reference, without a revision. */
  @JsonPropertyDescription("Flake reference without a revision, e.g. git+https://github.com/org/repo, "
      + "git+ssh://git@host/org/repo?ref=main or github:org/repo. The revision is spec.flake.rev.")
  @Required
  @Size(min = 1, max = 2048)
  @Pattern("^[a-z][a-z0-9+.-]*:[^\\s\"\\\\$]+$")
  public String url;

  /** The pinned revision (a full commit hash). */
  @JsonPropertyDescription("The revision to evaluate: a full commit hash (40 or 64 hex digits). Pinned, so that the "
      + "job means the same whenever it is evaluated.")
  @Required
  @Pattern("^([0-9a-f]{40}|[0-9a-f]{64})$")
  public String rev;

  /** The attribute path of the job in the flake's outputs. */
  @JsonPropertyDescription("Attribute path of the job in the flake's outputs; on a NixekJob it defaults to "
      + "ci.jobs.<metadata.name>. A job there may be an attribute set or a function (called with the arguments it "
      + "names out of nixpkgs, system, pkgs, lib; '{ }:' gets none).")
  @Size(max = 512)
  @Pattern("^[A-Za-z_][A-Za-z0-9_'-]*(\\.[A-Za-z_][A-Za-z0-9_'-]*)*$")
  public String attribute;
}
