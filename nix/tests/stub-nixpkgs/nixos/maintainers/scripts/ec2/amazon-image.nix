# Stub of nixpkgs' nixos/maintainers/scripts/ec2/amazon-image.nix (the EC2 image builder). Options as in
# nixpkgs 25.05 (`amazonImage.format`, `virtualisation.diskSize` in MiB or "auto", `ec2.efi`) plus the
# pre-24.11 `amazonImage.sizeMB`. The image is a stand-in file, laid out like nixpkgs' output:
# $out/<name>.<vhd|img|qcow2>, $out/nix-support/image-info.json, $out/nix-support/hydra-build-products.
{ config, lib, pkgs, ... }:
let
  cfg = config.amazonImage;
  system = pkgs.stdenv.hostPlatform.system;
  bootMode = if config.ec2.efi then "uefi" else "legacy-bios";
  extension = if cfg.format == "vpc" then "vhd" else if cfg.format == "raw" then "img" else cfg.format;
  sizeMiB = if cfg.sizeMB != null then cfg.sizeMB else config.virtualisation.diskSize;
  baseName = "nixos-image-amazon-${config.system.nixos.label}-${system}";
in
{
  imports = [ ../../../modules/virtualisation/amazon-image.nix ];

  options = {
    amazonImage.format = lib.mkOption { type = lib.types.enum [ "raw" "qcow2" "vpc" ]; default = "vpc"; };
    amazonImage.sizeMB = lib.mkOption { type = lib.types.nullOr (lib.types.either (lib.types.enum [ "auto" ]) lib.types.int); default = null; };
    virtualisation.diskSize = lib.mkOption { type = lib.types.either (lib.types.enum [ "auto" ]) lib.types.ints.positive; default = 4096; };
  };

  config.system.build.image = config.system.build.amazonImage;
  config.system.build.amazonImage = pkgs.stubDerivation {
    name = baseName;
    inherit bootMode system;
    format = cfg.format;
    fileName = "${baseName}.${extension}";
    label = config.system.nixos.label;
    logicalBytes = if sizeMiB == "auto" then "auto" else toString (sizeMiB * 1024 * 1024);
    toplevel = config.system.build.toplevel;
    run = ''
      mkdir -p "$out/nix-support"
      file="$out/$fileName"
      printf 'nixek-ci stand-in %s disk image of %s\n' "$format" "$toplevel" > "$file"
      if [ "$logicalBytes" = auto ]; then logicalBytes=$(wc -c < "$file" | tr -d ' '); fi
      printf 'file %s %s\n' "$format" "$file" > "$out/nix-support/hydra-build-products"
      printf '{"label":"%s","boot_mode":"%s","system":"%s","logical_bytes":"%s","file":"%s","disks":{"root":{"logical_bytes":"%s","file":"%s"}}}\n' \
        "$label" "$bootMode" "$system" "$logicalBytes" "$file" "$logicalBytes" "$file" > "$out/nix-support/image-info.json"
    '';
  };
}
