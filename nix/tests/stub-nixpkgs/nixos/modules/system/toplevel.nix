# Stub NixOS core: a freeform root (undeclared options are accepted, unlike real NixOS, so test machines can
# use any option), a few declared options with nixpkgs' types, assertions, and `system.build.toplevel`: a
# derivation whose inputs are the whole evaluated configuration serialised to JSON, so that its drvPath changes
# exactly when the configuration does (packages enter as store paths, i.e. as dependencies).
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;

  serialise = v:
    if lib.isUndefined v then null
    else if lib.isDerivation v then v.outPath
    else if builtins.isFunction v then "<function>"
    else if builtins.isPath v then "${v}"
    else if builtins.isList v then map serialise v
    else if builtins.isAttrs v && v ? outPath then toString v.outPath
    else if builtins.isAttrs v then builtins.mapAttrs (_: serialise) (lib.filterAttrs (_: x: !(lib.isUndefined x)) v)
    else v;

  # Everything but the build products (which depend on toplevel) and image variants (modules, not config).
  described = removeAttrs config [ "system" "image" ] // {
    system = removeAttrs config.system [ "build" ];
  };

  failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
in
{
  freeformType = types.anything;

  options = {
    assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
    environment.etc = mkOption {
      default = { };
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          enable = mkOption { type = types.bool; default = true; };
          target = mkOption { type = types.str; default = name; };
          source = mkOption { type = types.nullOr types.path; default = null; };
          text = mkOption { type = types.nullOr types.lines; default = null; };
          mode = mkOption { type = types.str; default = "symlink"; };
          user = mkOption { type = types.str; default = "+0"; };
          group = mkOption { type = types.str; default = "+0"; };
        };
      }));
    };
    networking.hostName = mkOption { type = types.str; default = "nixos"; };
    networking.firewall.enable = mkOption { type = types.bool; default = true; };
    networking.firewall.extraCommands = mkOption { type = types.lines; default = ""; };
    networking.nftables.enable = mkOption { type = types.bool; default = false; };
    boot.kernelModules = mkOption { type = types.listOf types.str; default = [ ]; };
    boot.kernelParams = mkOption { type = types.listOf types.str; default = [ ]; };
    system.stateVersion = mkOption { type = types.str; default = "25.05"; };
    system.nixos.release = mkOption { type = types.str; default = "25.05"; };
    system.nixos.label = mkOption { type = types.str; default = "25.05.stub"; };
  };

  config.system.build.toplevel =
    if failed != [ ] then throw "\nFailed assertions:\n${lib.concatMapStringsSep "\n" (m: "- ${m}") failed}"
    else pkgs.stubDerivation {
      name = "nixos-system-${if config.networking.hostName == "" then "nixos" else config.networking.hostName}-${config.system.nixos.label}";
      configuration = builtins.toJSON (serialise described);
      run = ''
        mkdir -p "$out"
        printf '%s' "$configuration" > "$out/configuration.json"
      '';
    };
}
