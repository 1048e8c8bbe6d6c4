package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** What machine to build, for which system, and where to put the image. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekMachineImageSpec {
  /** The machine, a NixOS module. */
  @JsonPropertyDescription("The machine: a NixOS module as a Nix expression, e.g. "
      + "'{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; }'.")
  @Required
  @Size(min = 1, max = 65536)
  public String machine;

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
