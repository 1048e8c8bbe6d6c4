# The offline stand-in for nixpkgs as a flake without inputs, so tests can also pass it the way the operator
# passes real nixpkgs (builtins.getFlake): `lib.nixosSystem` and `legacyPackages.<system>`.
{
  description = "nixek-ci tests: offline stand-in for nixpkgs";

  outputs = { self }:
    let
      lib = import ./lib;
    in
    {
      lib = lib // { nixosSystem = args: import ./nixos/lib/eval-config.nix args; };
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: import ./. { inherit system; });
    };
}
