package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.common.job.FlakeRules;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks an image's spec, with the operator's defaults filled in, before anything is built. The CRD schema rejects
 * most of this already; this catches what reaches the operator anyway (an API server without the schema, a blank
 * machine, a default the operator lacks) and names the field.
 */
public final class ImageValidator {
  /** The first problem found: which field, and what is wrong with it. */
  public record InvalidField(String field, String problem) {
    public String message() {
      return field + ": " + problem;
    }
  }

  static final Set<String> SYSTEMS = Set.of("x86_64-linux", "aarch64-linux");
  static final int MIN_DISK_GIB = 2;
  static final int MAX_DISK_GIB = 16384;
  static final int MAX_MACHINE_CHARS = 65536;
  /** A flake reference or an absolute path: it is written into a Nix string, so no quotes, '\', '$' or spaces. */
  private static final Pattern NIXPKGS = Pattern.compile("(/[^\\s\"\\\\$]*|[a-z+]+:[^\\s\"\\\\$]+)");
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  static final Pattern DRV_PATH = Pattern.compile("/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\\.drv");

  private ImageValidator() {}

  /**
   * The first problem of {@code spec}; {@code defaultRegion} is the operator's resolved default region ("" when
   * it has none).
   */
  public static Optional<InvalidField> validate(NixekMachineImageSpec spec, ImageOptions defaults,
      String defaultRegion) {
    if (spec == null) {
      return err("spec", "is required");
    }
    int sources = (spec.machine != null ? 1 : 0) + (spec.nix != null ? 1 : 0) + (spec.flake != null ? 1 : 0);
    if (sources > 1) {
      return err(spec.machine != null ? "spec.machine" : "spec.nix", "set only one of spec.machine, spec.nix and "
          + "spec.flake");
    }
    if (spec.nix != null || spec.flake != null) {
      Optional<InvalidField> evaluated = validateEvaluated(spec);
      if (evaluated.isPresent()) {
        return evaluated;
      }
    } else {
      if (spec.machine == null) {
        return err("spec.machine", "is required: a NixOS module as a Nix expression (or spec.nix / spec.flake with "
            + "spec.drvPath)");
      }
      if (spec.machine.isBlank()) {
        return err("spec.machine", "is empty: a NixOS module as a Nix expression is required");
      }
      if (spec.machine.length() > MAX_MACHINE_CHARS) {
        return err("spec.machine", "is longer than " + MAX_MACHINE_CHARS + " characters");
      }
      if (spec.drvPath != null) {
        return err("spec.drvPath", "is only used with spec.nix or spec.flake");
      }
    }
    String system = ImageIdentity.orDefault(spec.system, defaults.system());
    if (!SYSTEMS.contains(system)) {
      return err("spec.system", "must be x86_64-linux or aarch64-linux, not '" + system + "'");
    }
    if (spec.diskSizeGiB != null && (spec.diskSizeGiB < MIN_DISK_GIB || spec.diskSizeGiB > MAX_DISK_GIB)) {
      return err("spec.diskSizeGiB", "must be from " + MIN_DISK_GIB + " to " + MAX_DISK_GIB + ", not "
          + spec.diskSizeGiB);
    }
    String nixpkgs = ImageIdentity.orDefault(spec.nixpkgs, defaults.nixpkgs());
    // an evaluated job may bring its own nixpkgs (its 'nixpkgs' attribute, its flake's input)
    if (nixpkgs.isEmpty() && spec.machine != null) {
      return err("spec.nixpkgs", "is required: the operator has no default nixpkgs pin (NIXEK_IMAGE_NIXPKGS)");
    }
    if (!nixpkgs.isEmpty() && !NIXPKGS.matcher(nixpkgs).matches()) {
      return err("spec.nixpkgs", "must be a flake reference (github:NixOS/nixpkgs/<rev>) or an absolute path, not '"
          + nixpkgs + "'");
    }
    if (spec.region != null && !REGION.matcher(spec.region).matches()) {
      return err("spec.region", "must be an AWS region like us-east-1, not '" + spec.region + "'");
    }
    if (ImageIdentity.orDefault(spec.region, defaultRegion).isEmpty()) {
      return err("spec.region", "is required: the operator has no default AWS region (NIXEK_AWS_REGION or "
          + "AWS_REGION)");
    }
    String bucket = ImageIdentity.orDefault(spec.bucket, defaults.bucket());
    if (bucket.isEmpty()) {
      return err("spec.bucket", "is required: the operator has no default bucket (NIXEK_IMAGE_BUCKET)");
    }
    if (!BUCKET.matcher(bucket).matches()) {
      return err("spec.bucket", "must be an S3 bucket name, not '" + bucket + "'");
    }
    return Optional.empty();
  }

  private static Optional<InvalidField> validateEvaluated(NixekMachineImageSpec spec) {
    if (spec.nix != null && spec.nix.isBlank()) {
      return err("spec.nix", "is empty: a job as a Nix expression is required");
    }
    if (spec.nix != null && spec.nix.length() > MAX_MACHINE_CHARS) {
      return err("spec.nix", "is longer than " + MAX_MACHINE_CHARS + " characters");
    }
    if (spec.flake != null) {
      Optional<FlakeRules.Problem> flake = FlakeRules.problem(spec.flake, "spec.flake", true);
      if (flake.isPresent()) {
        return err(flake.get().field(), flake.get().problem());
      }
    }
    if (spec.drvPath == null || !DRV_PATH.matcher(spec.drvPath).matches()) {
      return err("spec.drvPath", "is required with spec.nix or spec.flake: the drvPath the job's evaluation gave "
          + "for its machine (/nix/store/<hash>-<name>.drv)");
    }
    if (spec.diskSizeGiB != null) {
      return err("spec.diskSizeGiB", "is only used with spec.machine: an evaluated drvPath fixes the disk already");
    }
    return Optional.empty();
  }

  private static Optional<InvalidField> err(String field, String problem) {
    return Optional.of(new InvalidField(field, problem));
  }
}
