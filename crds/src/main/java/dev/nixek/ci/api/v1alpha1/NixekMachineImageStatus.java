package dev.nixek.ci.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Observed state of a {@link NixekMachineImage}: the build, the import and the registered image. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class NixekMachineImageStatus {
  /** The spec generation this status describes. */
  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  public Long observedGeneration;

  /** The image's conditions; {@code Ready} is the one that matters. */
  @JsonPropertyDescription(ConditionReason.IMAGE_READY
      + " For GitOps tools (kstatus) the operator derives from Ready: Reconciling (True while Ready is Unknown) and "
      + "Stalled (True once it is False).")
  public List<Condition> conditions;

  /** The content-addressed identity of the image. */
  @JsonPropertyDescription("Content-addressed identity of the image: the SHA-256 of the evaluated drvPath (spec.nix "
      + "or spec.flake), or of the machine, nixpkgs pin, system, disk size and agent version (spec.machine). Images "
      + "with the same imageHash in one region are the same image and are built once.")
  public String imageHash;

  /** The AWS region the image is registered in. */
  @JsonPropertyDescription("AWS region the image is imported and registered in.")
  public String region;

  /** The Nix derivation of the image. */
  @JsonPropertyDescription("Derivation (drvPath) of the built disk image.")
  public String drvPath;

  /** The Nix that built the image (provenance). */
  @JsonPropertyDescription("Version of the Nix that built the disk image (nix --version in the builder pod). Absent "
      + "before the build, or when the builder could not tell.")
  public String nixVersion;

  /** Where the disk image was uploaded. */
  @JsonPropertyDescription("S3 URI of the uploaded disk image.")
  public String s3Uri;

  /** The SHA-256 of the uploaded disk image. */
  @JsonPropertyDescription("SHA-256 (hex) of the uploaded disk image.")
  public String sha256;

  /** The size of the uploaded disk image. */
  @JsonPropertyDescription("Size in bytes of the uploaded disk image.")
  public Long sizeBytes;

  /** The disk image's format, as EC2 ImportSnapshot names it. */
  @JsonPropertyDescription("Format of the uploaded disk image as ImportSnapshot takes it: VHD, VMDK or RAW.")
  public String diskFormat;

  /** The boot mode the image is registered with. */
  @JsonPropertyDescription("Boot mode of the image: uefi or legacy-bios.")
  public String bootMode;

  /** Which import attempt the image is on. */
  @JsonPropertyDescription("Import attempt, from 1; a failed import is retried (with a new ImportSnapshot "
      + "ClientToken) only when the spec changes.")
  public Integer importAttempt;

  /** When the current import started. */
  @JsonPropertyDescription("When the current ImportSnapshot task was started (RFC 3339).")
  public String importStartTime;

  /** The EC2 import task. */
  @JsonPropertyDescription("EC2 ImportSnapshot task id.")
  public String importTaskId;

  /** The EBS snapshot of the image. */
  @JsonPropertyDescription("EBS snapshot id the image was registered from.")
  public String snapshotId;

  /** The registered image. */
  @JsonPropertyDescription("The registered AMI id; jobs launch from it.")
  public String imageId;

  /** The registered image's name. */
  @JsonPropertyDescription("Name of the registered AMI, unique per cluster and identity.")
  public String amiName;

  /** The pod that builds the image. */
  @JsonPropertyDescription("Name of the builder pod.")
  public String builderPod;

  /** When the image became ready. */
  @JsonPropertyDescription("When the image became Ready (RFC 3339).")
  public String readyTime;
}
