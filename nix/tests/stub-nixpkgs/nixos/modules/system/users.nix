# Stub of NixOS' users options, with the two assertions real NixOS makes about every user (exactly one of
# isNormalUser/isSystemUser, and a group).
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options.users.users = mkOption {
    default = { };
    type = types.attrsOf (types.submodule ({ name, config, ... }: {
      options = {
        name = mkOption { type = types.str; default = name; };
        isNormalUser = mkOption { type = types.bool; default = false; };
        isSystemUser = mkOption { type = types.bool; default = false; };
        uid = mkOption { type = types.nullOr types.int; default = null; };
        group = mkOption { type = types.str; default = ""; };
        extraGroups = mkOption { type = types.listOf types.str; default = [ ]; };
        description = mkOption { type = types.str; default = ""; };
        home = mkOption { type = types.path; default = if config.isNormalUser then "/home/${name}" else "/var/empty"; };
        createHome = mkOption { type = types.bool; default = config.isNormalUser; };
        homeMode = mkOption { type = types.str; default = "700"; };
        shell = mkOption { type = types.nullOr (types.either types.package types.path); default = null; };
        hashedPassword = mkOption { type = types.nullOr types.str; default = null; };
        openssh.authorizedKeys.keys = mkOption { type = types.listOf types.str; default = [ ]; };
      };
    }));
  };

  options.users.groups = mkOption {
    default = { };
    type = types.attrsOf (types.submodule ({ name, ... }: {
      options = {
        name = mkOption { type = types.str; default = name; };
        gid = mkOption { type = types.nullOr types.int; default = null; };
        members = mkOption { type = types.listOf types.str; default = [ ]; };
      };
    }));
  };

  config.assertions = lib.concatMap (user: [
    {
      assertion = user.isNormalUser != user.isSystemUser;
      message = "Exactly one of users.users.${user.name}.isSystemUser and users.users.${user.name}.isNormalUser must be set.";
    }
    {
      assertion = user.group != "";
      message = "users.users.${user.name}.group is unset.";
    }
    {
      assertion = user.group == "" || config.users.groups ? ${user.group} || builtins.elem user.group [ "users" "nogroup" "root" ];
      message = "users.users.${user.name}.group = \"${user.group}\" names a group that is not defined.";
    }
  ]) (builtins.attrValues config.users.users);
}
