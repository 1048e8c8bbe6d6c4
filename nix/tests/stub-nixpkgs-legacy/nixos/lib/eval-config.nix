args: import ../../../stub-nixpkgs/nixos/lib/eval-config.nix ({ modulesPath = ../modules; } // args)
