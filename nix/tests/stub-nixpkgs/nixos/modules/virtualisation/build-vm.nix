# Stub of `system.build.vm` (nixpkgs: virtualisation/build-vm.nix + qemu-vm.nix): a runner script that would
# boot the system in QEMU. Here it only names the system it would boot.
{ config, pkgs, ... }:
{
  config.system.build.vm = pkgs.stubDerivation {
    name = "nixos-vm";
    toplevel = config.system.build.toplevel;
    hostName = config.networking.hostName;
    run = ''
      mkdir -p "$out/bin"
      printf '#!/bin/sh\necho "would boot %s in QEMU with QEMU_OPTS=$QEMU_OPTS"\n' "$toplevel" > "$out/bin/run-$hostName-vm"
      chmod +x "$out/bin/run-$hostName-vm"
    '';
  };
}
