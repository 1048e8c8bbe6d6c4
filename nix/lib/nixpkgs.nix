# Accepts nixpkgs in either form the operator pins it: a flake (`builtins.getFlake "github:NixOS/nixpkgs/<rev>"`
# or a flake input), or a source tree (a path, e.g. `--arg nixpkgs /nix/store/...-source`). Note the two forms
# give different machine drvPaths for the same revision (the flake form records its source in the system), so
# the operator must always use one form.
nixpkgs:
let
  inherit (import ./util.nix) describe fail;
  isFlake = builtins.isAttrs nixpkgs && nixpkgs ? lib && nixpkgs.lib ? nixosSystem;
  isSource = builtins.isPath nixpkgs || builtins.isString nixpkgs || (builtins.isAttrs nixpkgs && nixpkgs ? outPath);
  src = nixpkgs.outPath or nixpkgs;
in
if !(isFlake || isSource) then
  fail "'nixpkgs' must be a nixpkgs flake or a path to a nixpkgs source tree, got ${describe nixpkgs}"
else
  {
    inherit src;
    nixosSystem =
      if isFlake then nixpkgs.lib.nixosSystem
      else args: import (src + "/nixos/lib/eval-config.nix") args;
    pkgsFor = system:
      if builtins.isAttrs nixpkgs && nixpkgs ? legacyPackages then nixpkgs.legacyPackages.${system}
      else import src { inherit system; };
    lib = if isFlake then nixpkgs.lib else import (src + "/lib");
  }
