package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/**
 * What evaluating a job's Nix expression ({@code spec.nix} or {@code spec.flake}) gave: its steps and the identity of
 * its machine. Written once, by the report API, from what the evaluation pod posted.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekJobEvaluation {
  /** The evaluated steps, as complete as explicit ones. */
  @JsonPropertyDescription("The steps the job's Nix expression evaluated to, in order: what the job runs.")
  public List<NixekJobStep> steps;

  /** The evaluated machine; absent when the job has none. */
  @JsonPropertyDescription("The machine the job's Nix expression names: its image's drvPath and system. Absent when "
      + "the job names no machine (possible with providers that boot no image, such as local).")
  public NixekEvaluatedMachine machine;

  /** The Nix that evaluated the job (provenance). */
  @JsonPropertyDescription("Version of the Nix that evaluated the job (nix-instantiate --version where it ran).")
  public String nixVersion;

  /** True when the job names a machine that was not evaluated: the operator's provider boots none. */
  @JsonPropertyDescription("True when the job names a machine that was not evaluated, because the operator's "
      + "provider boots no machine (local): the steps ran without it. Absent otherwise.")
  public Boolean machineSkipped;
}
