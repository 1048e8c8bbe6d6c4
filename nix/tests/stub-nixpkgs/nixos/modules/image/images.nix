# Stub of nixpkgs' nixos/modules/image/images.nix (25.05+): each `image.modules.<variant>` extends the
# system with that module, and `system.build.images.<variant>` is the variant's `system.build.image`, with
# `passthru.config` like nixpkgs. Disabled when the system already defines `system.build.image` itself.
{ config, lib, extendModules, ... }:
let
  imageModules = {
    amazon = ../../maintainers/scripts/ec2/amazon-image.nix;
  };
in
{
  options.image.modules = lib.mkOption {
    type = lib.types.attrsOf lib.types.deferredModule;
    description = "image-specific NixOS modules used for `system.build.images`.";
  };

  config.image.modules = lib.mkIf (!config.system.build ? image) imageModules;
  config.system.build.images = lib.mkIf (!config.system.build ? image) (
    builtins.mapAttrs
      (name: module:
        let
          variant = extendModules { modules = [ module ]; };
        in
        variant.config.system.build.image // { passthru = { inherit (variant) config; }; })
      config.image.modules
  );
}
