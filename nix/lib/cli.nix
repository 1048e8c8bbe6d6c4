# Turns the string arguments of the command-line entry points (eval.nix, machine.nix) into job.nix /
# mkMachine.nix arguments: flake references become builtins.getFlake values, absolute paths stay paths, and
# "8" becomes 8 where a number is expected.
#
# These entry points are the operator's path: a machine evaluated here always gets its agent from `agentJar` (the jar
# the image ships), never from packages/agent.nix (Maven, with a hash that needs the network).
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
  # false: the job's machine is not evaluated (a provider that boots none); its steps still are.
, machine ? true
}:
let
  inherit (import ./util.nix) fail;

  getFlake = builtins.getFlake or (_: fail "reading a flake needs the 'flakes' experimental feature (--extra-experimental-features 'nix-command flakes')");

  # "/nix/store/...-source" or "/some/checkout": a source tree; anything else: a flake reference.
  nixpkgs' =
    if builtins.isString nixpkgs && builtins.substring 0 1 nixpkgs != "/" then getFlake nixpkgs
    else nixpkgs;

  number = v: if builtins.isString v && builtins.match "[0-9]+" v != null then builtins.fromJSON v else v;

  machineOptions =
    (if diskSizeGiB != null then { diskSizeGiB = number diskSizeGiB; } else { })
    // (if bootMode != null then { inherit bootMode; } else { })
    // (if diskFormat != null then { inherit diskFormat; } else { });

  machineOnly = machineFile != null;

  # Forced only when a machine is evaluated: a job without one needs no jar.
  agentJar' =
    if agentJar == null then
      fail "evaluating a machine needs the agent jar: pass --argstr agentJar /path/to/nixek-agent.jar (the image's is /opt/nixek/nixek-agent.jar)"
    else agentJar;
in
if builtins.typeOf machine != "bool" then fail "'machine' must be true or false (--arg machine false), got ${builtins.typeOf machine}"
else if machineOnly && !machine then fail "'machine = false' is for jobs: a 'machineFile' is only a machine"
else if machineOnly && (jobFile != null || flake != null) then fail "give either 'machineFile' or a job ('jobFile' or 'flake'), not both"
else if machineOnly then
  let
    image = import ./mkMachine.nix ({
      nixpkgs = if nixpkgs' == null then fail "'machineFile' needs 'nixpkgs'" else nixpkgs';
      machine = import machineFile;
      agentJar = agentJar';
      inherit system format;
    } // machineOptions);
  in
  {
    inherit image;
    evaluation =
      let r = { machine = { inherit (image) drvPath; inherit system; }; };
      in builtins.deepSeq r r;
  }
else
  let
    jobArgs = {
      inherit jobFile attribute system format machineOptions;
      agentJar = agentJar';
      evaluateMachine = machine;
      nixpkgs = nixpkgs';
      flake = if builtins.isString flake then getFlake flake else flake;
    };
  in
  {
    evaluation = import ./eval-job.nix jobArgs;
    image =
      let r = import ./job.nix (removeAttrs jobArgs [ "evaluateMachine" ]); in
      if r.image == null then fail "the job has no 'machine': there is no image to build" else r.image;
  }
