package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * What machine to build, for which system, and where to put the image. The machine is a NixOS module
 * ({@code machine}), or the machine of a job expression ({@code nix}) or of a flake job ({@code flake}) — the
 * latter two with the {@code drvPath} their evaluation gave, which is then the image's identity.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "[has(self.machine), has(self.nix), has(self.flake)].filter(x, x).size() == 1",
    message = "exactly one of spec.machine, spec.nix and spec.flake must be set")
@ValidationRule(value = "has(self.machine) != has(self.drvPath)",
    message = "spec.drvPath (the evaluated machine's identity) is required with spec.nix or spec.flake, and not "
        + "used with spec.machine")
@ValidationRule(value = "!has(self.flake) || has(self.flake.attribute)",
    message = "spec.flake.attribute is required on a machine image")
@ValidationRule(value = "has(self.machine) || !has(self.diskSizeGiB)",
    message = "spec.diskSizeGiB is only used with spec.machine: an evaluated drvPath fixes the disk already")
public class NixekMachineImageSpec {
  /** The machine, a NixOS module. */
  @JsonPropertyDescription("The machine: a NixOS module as a Nix expression, e.g. "
      + "'{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; }'. Exactly one of machine, nix and flake.")
  @Size(min = 1, max = 65536)
  @Pattern(TextRules.YAML_PRINTABLE)
  public String machine;

  /** A job expression whose machine this image is. */
  @JsonPropertyDescription("A job as a Nix expression (as a NixekJob's spec.nix); the image is its machine. Needs "
      + "drvPath. Exactly one of machine, nix and flake.")
  @Size(min = 1, max = 65536)
  @Pattern(TextRules.YAML_PRINTABLE)
  public String nix;

  /** A flake job whose machine this image is. */
  @JsonPropertyDescription("A flake job (url, rev, attribute); the image is its machine. Needs drvPath. Exactly one "
      + "of machine, nix and flake.")
  public NixekJobFlake flake;

  /** The evaluated drvPath of the machine of {@code nix} or {@code flake}: the image's identity. */
  @JsonPropertyDescription("With nix or flake: the drvPath the job's evaluation gave for its machine's image. It is "
      + "the image's identity (images with one drvPath are one image), and the builder checks that it builds exactly "
      + "this derivation.")
  @Size(max = 512)
  @Pattern("^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\\.drv$")
  public String drvPath;

  /** The nixpkgs the machine is built with. */
  @JsonPropertyDescription("The nixpkgs to build with, as a pinned flake reference "
      + "(e.g. github:NixOS/nixpkgs/<rev>). Defaults to the operator's pin.")
  @Size(max = 1024)
  public String nixpkgs;

  /** The Nix system of the image. */
  @JsonPropertyDescription("Nix system of the image: x86_64-linux or aarch64-linux.")
  @Pattern("^(x86_64-linux|aarch64-linux)$")
  public String system;

  /** The root disk size. */
  @JsonPropertyDescription("Root disk size in GiB.")
  @Min(2)
  @Max(16384)
  public Integer diskSizeGiB;

  /** The AWS region, if not the operator's. */
  @JsonPropertyDescription("AWS region to register the image in. Defaults to the operator's.")
  @Pattern("^[a-z]{2}(-[a-z]+)+-[0-9]+$")
  public String region;

  /** The S3 bucket for the image upload, if not the operator's. */
  @JsonPropertyDescription("S3 bucket the disk image is uploaded to for import. Defaults to the operator's.")
  @Pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
  public String bucket;

  /** Changed to retry a failed build or import; not part of the image's identity. */
  @JsonPropertyDescription("Change this value (any string) to retry a failed build or import of the same machine. "
      + "A failed image is never retried otherwise. Not part of the image identity.")
  @Size(max = 63)
  public String retry;
}
