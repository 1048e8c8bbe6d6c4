# Command-line entry of the evaluation pod: prints the evaluation output (nix/README.md) as JSON.
#
#   nix-instantiate --eval --strict --json nix/eval.nix \
#     --extra-experimental-features 'nix-command flakes' \
#     --argstr jobFile /work/job.nix --argstr nixpkgs github:NixOS/nixpkgs/<rev> [--argstr system aarch64-linux] \
#     --argstr agentJar /opt/nixek/nixek-agent.jar
#   nix-instantiate ... nix/eval.nix --argstr flake 'git+https://host/repo?rev=<rev>' --argstr attribute ci.jobs.hello
#   nix-instantiate ... nix/eval.nix --argstr machineFile /work/machine.nix --argstr nixpkgs ...   (machine only)
#   nix-instantiate ... nix/eval.nix --argstr jobFile /work/job.nix --arg machine false   (steps only: the local
#     provider boots no machine, so the job's machine is not evaluated and needs no nixpkgs)
#
# Every argument is a string (--argstr); `nixpkgs` and `flake` are flake references, or absolute paths for a
# nixpkgs source tree. `--arg nixpkgs <expression>` works too. `agentJar` (an absolute path) is needed as soon as a
# machine is evaluated: its content is part of the machine's drvPath. Check the exit code before parsing stdout.
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
, machine ? true
}@args:
(import ./lib/cli.nix args).evaluation
