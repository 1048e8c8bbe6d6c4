package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The identity of an evaluated machine: the drvPath of its EC2 image, and its system. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekEvaluatedMachine {
  /** The drvPath of the machine's image: its content-addressed identity. */
  @JsonPropertyDescription("Derivation (drvPath) of the machine's EC2 image: the same machine, nixpkgs, system and "
      + "agent give the same drvPath, whichever job names it, and so one image.")
  public String drvPath;

  /** The Nix system the machine was evaluated for. */
  @JsonPropertyDescription("Nix system of the machine, e.g. x86_64-linux.")
  public String system;
}
