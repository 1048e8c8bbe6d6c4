# nixek-ci: CI where a job is a Nix expression naming its whole machine. This flake is thin on purpose: the
# NixOS module, the image builder, the job evaluation and the agent package live under nix/ (see
# nix/README.md); the operator's own pods call nix/eval.nix and nix/machine.nix directly.
{
  description = "nixek-ci: each CI job on a fresh NixOS VM built from the machine the job names";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems f;
    in
    {
      lib = {
        # mkMachine { machine; system ? "x86_64-linux"; format ? "amazon"; ... } -> image derivation.
        mkMachine = args: import ./nix/lib/mkMachine.nix ({ inherit nixpkgs; } // args);
        # evalJob { jobFile | job | flake + attribute; system ? ...; } -> { steps; machine = { drvPath; system; } | null; }
        evalJob = args: import ./nix/lib/eval-job.nix ({ inherit nixpkgs; } // args);
      };

      nixosModules = {
        agent = ./nix/modules/agent.nix;
        default = self.nixosModules.agent;
      };

      # The agent built from source with Maven (needs packages/agent.nix's mvnHash), for users outside the operator:
      # the operator's pods give machines the image's agent jar instead (agentJar, nix/README.md).
      packages = forAllSystems (system: rec {
        agent = nixpkgs.legacyPackages.${system}.callPackage ./nix/packages/agent.nix { };
        default = agent;
      });

      # Building the agent runs its unit tests (offline, in the sandbox).
      checks = forAllSystems (system: {
        agent = self.packages.${system}.agent;
      });
    };
}
