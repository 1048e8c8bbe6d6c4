# Loads one job — a value, a file (the operator writes a NixekJob's `spec.nix` to one) or a flake attribute —,
# checks its shape, and resolves its machine to an image derivation. eval-job.nix turns the result into the
# evaluation output; machine.nix builds the image.
#
# A job is an attribute set, or a function returning one, called with the arguments its formals name out of
# { nixpkgs, system, pkgs, lib } (like callPackage; `{ }:` and `_:` get { }, as the prototype's ci.jobs did). A job
# function may return a function of optional arguments only (the prototype's `{ info ? "" }: { ... }`), called with
# { }. Step names are display text (step-name.nix):
#   machine  optional  a NixOS module (function, attribute set or path)
#   steps    required  non-empty list of { name; run | command; env ? { }; timeoutSeconds ? n;
#                      artifacts ? [ { name; paths = [ glob ... ]; } ]; }
#   nixpkgs  optional  the nixpkgs to build the machine with, overriding the one given to the evaluation
#   secrets  optional  { NAME = "secret/key"; NAME2 = { ref = "secret/key"; as = "file"; }; } for every step; a
#                      step's own `secrets` (same form) wins per name (docs/secrets.md)
{ job ? null
, jobFile ? null
, flake ? null
, attribute ? null
, nixpkgs ? null
, system ? "x86_64-linux"
, agentJar ? null
, agent ? null
, format ? "amazon"
  # Passed on to mkMachine (diskSizeGiB, bootMode, diskFormat); they are part of the machine's identity.
, machineOptions ? { }
}:
let
  inherit (import ./util.nix) describe fail isModule show;
  stepName = import ./step-name.nix;
  inherit (builtins)
    attrNames concatStringsSep elem filter foldl' functionArgs genList head intersectAttrs isAttrs
    isFunction isInt isList isPath isString length match;

  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;

  sourcesGiven = length (filter (x: x != null) [ job jobFile flake ]);

  # --- where the job comes from -----------------------------------------------------------------------

  flakeValue =
    if isString flake then
      (builtins.getFlake or (_: fail "reading a flake needs the 'flakes' experimental feature (--extra-experimental-features 'nix-command flakes')")) flake
    else if isAttrs flake then flake
    else fail "'flake' must be a flake reference or the value of builtins.getFlake, got ${describe flake}";

  attributePath =
    if !isString attribute || attribute == "" then
      fail "'attribute' must be an attribute path such as 'ci.jobs.hello-world', got ${if attribute == null then "nothing" else show attribute}"
    else filter isString (builtins.split "\\." attribute);

  lookup = value: path:
    if path == [ ] then { found = true; inherit value; }
    else if isAttrs value && value ? ${head path} then lookup value.${head path} (builtins.tail path)
    else { found = false; };

  fromFlake =
    let
      r = lookup flakeValue attributePath;
    in
    if r.found then r.value else fail "flake has no attribute '${attribute}'";

  fromFile =
    if isString jobFile && !hasPrefix "/" jobFile then fail "'jobFile' must be an absolute path, got ${show jobFile}"
    else if !(isString jobFile || isPath jobFile) then fail "'jobFile' must be a path, got ${describe jobFile}"
    else import jobFile;

  raw =
    if sourcesGiven != 1 then fail "give exactly one of 'job', 'jobFile' or 'flake' (got ${toString sourcesGiven})"
    else if flake != null then fromFlake
    else if jobFile != null then fromFile
    else job;

  # --- the arguments a job function may ask for ---------------------------------------------------------

  # A flake's own nixpkgs input (its lock) wins over the evaluation's for that flake's jobs.
  givenNixpkgs =
    if flake != null && flakeValue ? inputs && flakeValue.inputs ? nixpkgs then flakeValue.inputs.nixpkgs
    else nixpkgs;

  noNixpkgs = what: fail "${what}, but no nixpkgs was given to the evaluation (pass 'nixpkgs', e.g. --argstr nixpkgs github:NixOS/nixpkgs/<rev>)";

  jobArgs = {
    inherit system;
    nixpkgs = if givenNixpkgs != null then givenNixpkgs else noNixpkgs "the job asks for 'nixpkgs'";
    pkgs = if givenNixpkgs != null then (import ./nixpkgs.nix givenNixpkgs).pkgsFor system else noNixpkgs "the job asks for 'pkgs'";
    lib = if givenNixpkgs != null then (import ./nixpkgs.nix givenNixpkgs).lib else noNixpkgs "the job asks for 'lib'";
  };

  called = if isFunction raw then raw (intersectAttrs (functionArgs raw) jobArgs) else raw;

  # The prototype's shape, `{ nixpkgs, ... }: { info ? "" }: { ... }`: a job function returning a function of optional
  # arguments only; that one is called with { }, as a flake's `ci.jobs.<name> = { info ? "" }: { ... }` is above.
  required = f: filter (n: !(functionArgs f).${n}) (attrNames (functionArgs f));
  value =
    if !(isFunction raw && isFunction called) then called
    else if required called != [ ] then
      fail "${shapeError}, got a function returning a function that needs '${head (required called)}' (a job function may return a function of optional arguments only, such as { info ? \"\" }: { ... }, which is called with { })"
    else called { };

  shapeError = "job must be an attribute set or a function returning one";

  jobAttrs =
    if isAttrs value && (value.type or null) != "derivation" then value
    else if isFunction raw then fail "${shapeError}, got a function returning ${describe value}"
    else fail "${shapeError}, got ${describe value}";

  allowedJobAttrs = [ "machine" "steps" "nixpkgs" "secrets" ];
  unknownJobAttrs = filter (n: !elem n allowedJobAttrs) (attrNames jobAttrs);

  checkedJob =
    if unknownJobAttrs != [ ] then
      fail "job has unknown attribute '${head unknownJobAttrs}' (a job has: ${concatStringsSep ", " allowedJobAttrs})"
    else if !(jobAttrs ? steps) then fail "job has no attribute 'steps'"
    else if !isList jobAttrs.steps then fail "'steps' must be a list, got ${describe jobAttrs.steps}"
    else if jobAttrs.steps == [ ] then fail "'steps' is empty: a job needs at least one step"
    else jobAttrs;

  # --- steps ----------------------------------------------------------------------------------------------

  allowedStepAttrs = [ "name" "run" "command" "env" "timeoutSeconds" "secrets" "artifacts" ];

  # The shape of an artifact; its name and globs are checked by the report API (the CRD's rules, docs/artifacts.md).
  isArtifact = a: isAttrs a && a ? name && isString a.name && a ? paths && isList a.paths && a.paths != [ ]
    && builtins.all isString a.paths && builtins.all (n: elem n [ "name" "paths" ]) (attrNames a);

  # --- secrets: names and refs only; the values are fetched by the agent at run time ----------------------

  secretRefPattern = "[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[-._a-zA-Z0-9]+";

  # { NAME = "secret/key" | { ref; as ? "env"; }; } -> [ { name; ref; as; } ], checked; `at` names the field.
  checkSecrets = at: secrets:
    let
      names = if isAttrs secrets then attrNames secrets else [ ];
      entry = n:
        let
          v = secrets.${n};
          ref = if isString v then v else v.ref or null;
          as = if isAttrs v then v.as or "env" else "env";
          unknown = if isAttrs v then filter (k: !elem k [ "ref" "as" ]) (attrNames v) else [ ];
        in
        if match "[A-Za-z_][A-Za-z0-9_]*" n == null then fail "${at} has an invalid name ${show n} (an environment variable name)"
        else if !(isString v || isAttrs v) then fail "${at}.${n} must be \"secret/key\" or { ref = \"secret/key\"; as = \"file\"; }, got ${describe v}"
        else if unknown != [ ] then fail "${at}.${n} has unknown attribute '${head unknown}' (it has: ref, as)"
        else if !isString ref || match secretRefPattern ref == null then
          fail "${at}.${n} must name a Secret and key as \"secret-name/key\", got ${show ref}"
        else if !elem as [ "env" "file" ] then fail "${at}.${n}.as must be \"env\" or \"file\", got ${show as}"
        else { name = n; inherit ref as; };
    in
    if !isAttrs secrets then fail "${at} must be an attribute set of \"secret/key\" strings, got ${describe secrets}"
    else map entry names;

  jobSecrets = if checkedJob ? secrets then checkSecrets "secrets" checkedJob.secrets else [ ];

  # The job's secrets, then the step's own replacing those of the same name.
  mergeSecrets = own:
    let
      ownNames = map (e: e.name) own;
    in
    filter (e: !elem e.name ownNames) jobSecrets ++ own;

  firstBad = pred: list:
    let
      bad = filter (i: !(pred (builtins.elemAt list i))) (genList (i: i) (length list));
    in
    if bad == [ ] then null else head bad;

  checkStep = i: s:
    let
      at = "steps[${toString i}]";
      named = "${at} ('${s.name}')";
      badName = stepName.problem s.name;
      unknown = filter (n: !elem n allowedStepAttrs) (attrNames s);
      badArg = if s ? command && isList s.command then firstBad isString s.command else null;
      envNames = if s ? env && isAttrs s.env then attrNames s.env else [ ];
      badEnvName = filter (n: match "[A-Za-z_][A-Za-z0-9_]*" n == null) envNames;
      badEnvValue = filter (n: !isString s.env.${n}) envNames;
      badArtifact = if s ? artifacts && isList s.artifacts then firstBad isArtifact s.artifacts else null;
    in
    if !isAttrs s then fail "${at} must be an attribute set, got ${describe s}"
    else if !(s ? name) then fail "${at} has no 'name'"
    else if !isString s.name || s.name == "" then fail "${at} 'name' must be a non-empty string, got ${show s.name}"
    else if badName != null then fail "${at} 'name' is not a step name: ${badName}"
    else if unknown != [ ] then fail "${named} has unknown attribute '${head unknown}' (a step has: ${concatStringsSep ", " allowedStepAttrs})"
    else if s ? run && s ? command then fail "${named} has both 'run' and 'command'"
    else if !(s ? run) && !(s ? command) then fail "${named} has neither 'run' nor 'command'"
    else if s ? run && !isString s.run then fail "${named} 'run' must be a string, got ${describe s.run}"
    else if s ? run && s.run == "" then fail "${named} 'run' is empty"
    else if s ? command && !isList s.command then fail "${named} 'command' must be a non-empty list of strings, got ${describe s.command}"
    else if s ? command && s.command == [ ] then fail "${named} 'command' is empty (it must be a non-empty list of strings)"
    else if badArg != null then fail "${named} 'command[${toString badArg}]' must be a string, got ${describe (builtins.elemAt s.command badArg)}"
    else if s ? env && !isAttrs s.env then fail "${named} 'env' must be an attribute set of strings, got ${describe s.env}"
    else if badEnvName != [ ] then fail "${named} 'env' has an invalid variable name ${show (head badEnvName)}"
    else if badEnvValue != [ ] then fail "${named} 'env.${head badEnvValue}' must be a string, got ${describe s.env.${head badEnvValue}}"
    else if s ? timeoutSeconds && !(isInt s.timeoutSeconds && s.timeoutSeconds > 0) then
      fail "${named} 'timeoutSeconds' must be a positive integer, got ${show s.timeoutSeconds}"
    else if s ? artifacts && !isList s.artifacts then
      fail "${named} 'artifacts' must be a list of { name; paths; }, got ${describe s.artifacts}"
    else if badArtifact != null then
      fail "${named} 'artifacts[${toString badArtifact}]' must be { name = \"...\"; paths = [ \"glob\" ... ]; } (a non-empty list of strings), got ${describe (builtins.elemAt s.artifacts badArtifact)}"
    else
      # The agent's step JSON: only the keys that are present (the protocol has no nulls: protocol/AgentStep).
      { inherit (s) name; }
      // (if s ? run then { inherit (s) run; } else { inherit (s) command; })
      // (if s ? env then { inherit (s) env; } else { })
      // (if s ? timeoutSeconds then { inherit (s) timeoutSeconds; } else { })
      // (let merged = mergeSecrets (if s ? secrets then checkSecrets "${named} secrets" s.secrets else [ ]); in
          if merged == [ ] then { } else { secrets = merged; })
      // (if s ? artifacts && s.artifacts != [ ] then { inherit (s) artifacts; } else { });

  rawSteps = checkedJob.steps;
  checkedSteps = genList (i: checkStep i (builtins.elemAt rawSteps i)) (length rawSteps);

  # The first name seen twice, with both indices.
  duplicate =
    foldl'
      (acc: i:
        let
          n = (builtins.elemAt checkedSteps i).name;
        in
        if acc.found != null then acc
        else if acc.seen ? ${n} then acc // { found = { name = n; first = acc.seen.${n}; second = i; }; }
        else acc // { seen = acc.seen // { ${n} = i; }; })
      { seen = { }; found = null; }
      (genList (i: i) (length checkedSteps));

  steps =
    let
      d = duplicate.found;
    in
    if d != null then fail "duplicate step name '${d.name}' (steps[${toString d.first}] and steps[${toString d.second}])"
    else checkedSteps;

  # --- machine --------------------------------------------------------------------------------------------

  machineModule = checkedJob.machine or null;
  machineNixpkgs = checkedJob.nixpkgs or givenNixpkgs;

  # Whether the job names a machine, its shape checked without evaluating it (that may need nixpkgs).
  hasMachine =
    if machineModule == null then false
    else if !isModule machineModule then
      fail "'machine' must be a NixOS module (a function or an attribute set), got ${describe machineModule}"
    else true;

  image =
    if !hasMachine then null
    else if machineNixpkgs == null then noNixpkgs "the job has a 'machine'"
    else import ./mkMachine.nix ({
      nixpkgs = machineNixpkgs;
      machine = machineModule;
      inherit system agentJar agent format;
    } // machineOptions);
in
{
  inherit steps image system hasMachine;
}
