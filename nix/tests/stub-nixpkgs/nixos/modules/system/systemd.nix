# Stub of NixOS' systemd options, declared (not freeform) so that a misspelt unit option fails here as it
# would in real NixOS.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  strings = mkOption { type = types.listOf types.str; default = [ ]; };
  unitOptions = mkOption { type = types.attrsOf types.unspecified; default = { }; };
in
{
  options.systemd.services = mkOption {
    default = { };
    type = types.attrsOf (types.submodule ({ name, ... }: {
      options = {
        enable = mkOption { type = types.bool; default = true; };
        description = mkOption { type = types.str; default = ""; };
        wantedBy = strings;
        requiredBy = strings;
        after = strings;
        before = strings;
        wants = strings;
        requires = strings;
        bindsTo = strings;
        partOf = strings;
        conflicts = strings;
        path = mkOption { type = types.listOf (types.either types.package types.str); default = [ ]; };
        environment = mkOption { type = types.attrsOf (types.nullOr (types.either types.str types.package)); default = { }; };
        serviceConfig = unitOptions;
        unitConfig = unitOptions;
        script = mkOption { type = types.lines; default = ""; };
        preStart = mkOption { type = types.lines; default = ""; };
        postStart = mkOption { type = types.lines; default = ""; };
        restartTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; };
        reloadTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; };
        restartIfChanged = mkOption { type = types.bool; default = true; };
        stopIfChanged = mkOption { type = types.bool; default = true; };
        startAt = mkOption { type = types.either types.str (types.listOf types.str); default = [ ]; };
      };
    }));
  };

  options.systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; };
}
