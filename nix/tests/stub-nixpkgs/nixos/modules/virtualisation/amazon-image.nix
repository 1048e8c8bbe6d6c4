# Stub of nixpkgs' nixos/modules/virtualisation/amazon-image.nix (EC2 runtime configuration, as opposed to the
# image builder): the options nix/ sets, and the amazon-init service that reconfigures the system from
# user-data unless disabled.
{ config, lib, pkgs, ... }:
{
  options = {
    ec2.efi = lib.mkOption { type = lib.types.bool; default = pkgs.stdenv.hostPlatform.isAarch64; };
    virtualisation.amazon-init.enable = lib.mkOption { type = lib.types.bool; default = true; };
  };

  config = {
    systemd.services.amazon-init = lib.mkIf config.virtualisation.amazon-init.enable {
      description = "Reconfigure the system from EC2 userdata on startup";
      wantedBy = [ "multi-user.target" ];
      script = "cp /etc/ec2-metadata/user-data /etc/nixos/configuration.nix && nixos-rebuild switch";
    };
    networking.hostName = lib.mkDefault "";
  };
}
