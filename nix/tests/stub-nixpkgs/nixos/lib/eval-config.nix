# Stand-in for nixpkgs' nixos/lib/eval-config.nix (what `lib.nixosSystem` calls): evaluates the stub's
# NixOS module list plus the given modules. `modulesPath` lets the legacy stub offer a module tree without
# image/images.nix, like nixpkgs before 25.05.
{ system ? "x86_64-linux"
, modules ? [ ]
, specialArgs ? { }
, lib ? import ../../lib
, modulesPath ? ../modules
, ...
}:
let
  pkgs = import ../.. { inherit system; };
  evaluated = lib.evalModules {
    modules = import (modulesPath + "/module-list.nix") ++ modules;
    specialArgs = { inherit modulesPath pkgs; } // specialArgs;
  };
in
evaluated // { inherit pkgs; }
