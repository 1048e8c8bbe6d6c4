# evalJob: one job -> the evaluation output the operator reads (nix/README.md, "Evaluation output"):
#
#   { steps = [ { name; run | command; env?; timeoutSeconds?; } ... ];
#     machine = { drvPath = "/nix/store/...-<image>.drv"; system = "x86_64-linux"; } or null; }
#
# With `evaluateMachine = false` (a provider that boots no machine, such as local) the machine is not
# evaluated — it may need a nixpkgs the evaluation does not have — and a job that names one gets
# `machine = null; machineSkipped = true;` (its shape is still checked).
#
# `machine.drvPath` is the drvPath of the machine's EC2 image: its content-addressed identity. The result is
# fully evaluated before it is returned, so a failing job prints no partial JSON, and step errors are
# reported before anything about the machine is evaluated. Shape errors throw "nixek: ..." (see job.nix).
{ job ? null
  # An absolute path (string or path) to a file holding the job expression.
, jobFile ? null
  # The value of builtins.getFlake "<url>?rev=<rev>" (or the reference itself), with `attribute`.
, flake ? null
  # Attribute path inside the flake, e.g. "ci.jobs.hello-world" (the caller resolves the default).
, attribute ? null
  # nixpkgs flake or source path; needed when the job has a machine (unless the job or flake brings one).
, nixpkgs ? null
, system ? "x86_64-linux"
  # The agent in the machine (mkMachine.nix): an absolute path to nixek-agent.jar; or a package or a function
  # pkgs -> package; neither: this repo's agent built from source with Maven.
, agentJar ? null
, agent ? null
, format ? "amazon"
, machineOptions ? { }
, evaluateMachine ? true
}@args:
let
  resolved = import ./job.nix (removeAttrs args [ "evaluateMachine" ]);
  steps = builtins.deepSeq resolved.steps resolved.steps;
  result =
    if !evaluateMachine then
      { inherit steps; machine = null; } // (if resolved.hasMachine then { machineSkipped = true; } else { })
    else {
      inherit steps;
      machine =
        if resolved.image == null then null
        else { inherit (resolved.image) drvPath; inherit (resolved) system; };
    };
in
builtins.seq steps (builtins.deepSeq result result)
