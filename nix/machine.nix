# Command-line entry of the builder pod: the machine's image derivation, taking the same arguments as
# eval.nix, so that the image built is the one whose drvPath the evaluation reported:
#
#   nix-instantiate nix/machine.nix --argstr jobFile /work/job.nix --argstr nixpkgs <ref> \
#     --argstr agentJar /opt/nixek/nixek-agent.jar                                          # prints the drvPath
#   nix-build --no-out-link nix/machine.nix --argstr jobFile /work/job.nix --argstr nixpkgs <ref> --argstr agentJar ...
{ jobFile ? null
, flake ? null
, attribute ? null
, machineFile ? null
, nixpkgs ? null
, system ? "x86_64-linux"
, format ? "amazon"
, diskSizeGiB ? null
, bootMode ? null
, diskFormat ? null
, agentJar ? null
}@args:
(import ./lib/cli.nix args).image
