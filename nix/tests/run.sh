#!/usr/bin/env bash
# Offline tests of nix/ with real nix (the image's version: PATH="$(hack/current-nix.sh):$PATH", as test.sh does)
# and the stub nixpkgs in this folder.
# Prints one PASS/FAIL/SKIP line per case and "N passed, N failed, N skipped"; exits non-zero on any failure,
# and with status 2 when nix is missing. Needs bash, nix, jq, git; java only for the agent CLI cross-check.
set -u

if ! command -v nix-instantiate >/dev/null 2>&1 || ! command -v nix-build >/dev/null 2>&1 || ! command -v nix >/dev/null 2>&1; then
  echo "FAIL nix is not installed: these tests need nix-instantiate, nix-build and nix (PATH=\"\$(hack/current-nix.sh):\$PATH\")"
  echo "0 passed, 1 failed"
  exit 2
fi

if ! command -v jq >/dev/null 2>&1; then
  echo "FAIL jq is not installed: these tests read nix's JSON with it (apt-get install -y jq)"
  echo "0 passed, 1 failed"
  exit 2
fi

here=${0%/*}
[ "$here" = "$0" ] && here=.
REPO=$(cd "$here/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Work on a snapshot of what nix/ reads (flake.nix, nix/, the Maven reactor's poms and sources), so that
# edits made while the tests run cannot make two evaluations of "the same" machine differ.
ROOT=$TMP/repo
mkdir -p "$ROOT"
(
  cd "$REPO" || exit 1
  cp -r flake.nix nix pom.xml "$ROOT/" || exit 1
  if [ -d .mvn ]; then cp -r .mvn "$ROOT/" || exit 1; fi
  for m in $(sed -n 's|.*<module>\([^<]*\)</module>.*|\1|p' pom.xml); do
    mkdir -p "$ROOT/$m"
    if [ -f "$m/pom.xml" ]; then cp "$m/pom.xml" "$ROOT/$m/" || exit 1; fi
    if [ -d "$m/src" ]; then cp -r "$m/src" "$ROOT/$m/" || exit 1; fi
  done
) || { echo "FAIL cannot snapshot the repository"; echo "0 passed, 1 failed"; exit 1; }

T=$ROOT/nix/tests
STUB=$T/stub-nixpkgs
# What the operator's pods give every machine: an agent jar, taken by content. A stand-in here (nix only hashes it
# into the machine; the stub builds a wrapper around it): hack/machine-identity.sh does the same with real jars.
AGENT_JAR=$TMP/nixek-agent.jar
printf 'stand-in agent jar\n' >"$AGENT_JAR"
JAR_ARGS=(--argstr agentJar "$AGENT_JAR")
LEGACY=$T/stub-nixpkgs-legacy
NIXOPTS=(--extra-experimental-features 'nix-command flakes' --option substituters '')
started=$(date +%s)

passed=0 failed=0 skipped=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); }

# ev ARGS...: evaluate nix/eval.nix; sets RC, OUT (stdout) and ERR (stderr).
ev() {
  nix-instantiate --eval --strict --json "${NIXOPTS[@]}" "$ROOT/nix/eval.nix" "${JAR_ARGS[@]}" "$@" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}
# nx EXPR: evaluate a Nix expression to JSON (with ROOT, STUB, LEGACY and AGENT, the stand-in jar, in scope as
# paths); same variables.
nx() {
  nix-instantiate --eval --strict --json "${NIXOPTS[@]}" \
    --arg ROOT "$ROOT" --arg STUB "$STUB" --arg LEGACY "$LEGACY" --arg AGENT "$AGENT_JAR" \
    -E "{ ROOT, STUB, LEGACY, AGENT }: $1" >"$TMP/out" 2>"$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
}
# ok NAME JQ-FILTER: the last evaluation succeeded and its JSON satisfies the filter.
ok() {
  if [ "$RC" -ne 0 ]; then fail "$1" "exit $RC: $(head -c 600 <<<"$ERR")"
  elif jq -e "$2" >/dev/null 2>&1 <<<"$OUT"; then pass "$1"
  else fail "$1" "unexpected output: $(head -c 600 <<<"$OUT")"
  fi
}
# rejects NAME FRAGMENT: the last evaluation failed, said FRAGMENT on stderr and printed no (partial) JSON.
rejects() {
  if [ "$RC" -eq 0 ]; then fail "$1" "succeeded: $(head -c 300 <<<"$OUT")"
  elif ! grep -qF -- "$2" <<<"$ERR"; then fail "$1" "expected \"$2\", got: $(head -c 600 <<<"$ERR")"
  elif [ -n "$OUT" ]; then fail "$1" "printed output before failing: $(head -c 200 <<<"$OUT")"
  else pass "$1"
  fi
}
drv() { jq -r '.machine.drvPath' <<<"$OUT"; }
job() { echo "$T/jobs/$1.nix"; }

DRV_RE='^/nix/store/[0-9a-z]{32}-nixos-image-amazon-[^/]*\\.drv$'

# --- the evaluation contract ----------------------------------------------------------------------------

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB"
ok "seed job: its two steps, and an amazon image drvPath for x86_64-linux" "
  (keys == [\"machine\", \"steps\"])
  and .steps == [{name: \"build\", run: \"cargo build --release\"}, {name: \"test\", run: \"cargo test\"}]
  and .machine.system == \"x86_64-linux\" and (.machine | keys) == [\"drvPath\", \"system\"]
  and (.machine.drvPath | test(\"$DRV_RE\"))"
SEED=$(drv)

ev --argstr jobFile "$(job prototype-command)"
ok "prototype job (attribute set, argv steps, env, timeouts, no machine; absent keys omitted)" '
  .machine == null
  and .steps == [
    {name: "hello", command: ["echo", "hello", "world"]},
    {name: "env", command: ["sh", "-c", "echo $GREETING"], env: {GREETING: "hi"}, timeoutSeconds: 30},
    {name: "script", run: "echo done", timeoutSeconds: 5}]
  and ([.steps[] | .. | select(. == null)] | length) == 0'

ev --argstr jobFile "$(job artifacts)"
ok "a step's artifacts pass through; an empty list is left out" '
  .steps == [
    {name: "build", run: "make", artifacts: [{name: "dist", paths: ["dist/*.tar.gz", "reports/**"]}]},
    {name: "none", run: "true"}]'

ev --argstr jobFile "$(job prototype-hello-world)" --argstr nixpkgs "$STUB"
ok "the prototype's inline hello-world ({ nixpkgs, ... }: { info ? \"\" }: ..., called with { }): a display name" '
  .machine == null and .steps == [{name: "Check hello", run: "echo hello"}]'

ev --argstr jobFile "$(job prototype-should-fail)"
ok "the prototype's inline should-fail, without nixpkgs (asked for, never used)" '
  .steps == [{name: "This step fails", run: "exit 1"}]'

ev --argstr jobFile "$(job secrets)"
ok "secrets: names and refs only, the job's for every step, a step's own winning per name" '
  .steps[0].secrets == [{as: "file", name: "CERT", ref: "tls/cert.pem"}, {as: "env", name: "DEPLOY_KEY", ref: "deploy/key"}]
  and .steps[1].secrets == [{as: "file", name: "CERT", ref: "tls/cert.pem"}, {as: "env", name: "DEPLOY_KEY", ref: "other/k"},
    {as: "env", name: "X", ref: "x/y"}]'

ev --argstr jobFile "$(job display-names)"
ok "display names: spaces, '/', '%', quotes, any script, as written" '
  [.steps[].name] == ["Build / test", "100% done", "ünïcödé — テスト ✓ 🚀", "it'"'"'s \"quoted\""]'

# The rule of nix/lib/step-name.nix for every character below U+00A0 and the separators: C0, DEL, C1 and line and
# paragraph separators are refused anywhere, spaces at either end only (StepNamesTest checks the same of the CRD's pattern and Java).
nx "let
      p = (import (ROOT + \"/nix/lib/step-name.nix\")).problem;
      hex = n: builtins.concatStringsSep \"\" (map (k: builtins.substring (builtins.bitAnd (n / k) 15) 1 \"0123456789ABCDEF\") [ 4096 256 16 1 ]);
      c = n: builtins.fromJSON \"\\\"\\\\u\${hex n}\\\"\";
    in {
      inside = builtins.genList (i: p \"a\${c (i + 1)}b\") 159;
      ends = map (n: [ (p \"\${c n}x\") (p \"x\${c n}\") (p \"x\${c n}x\") ]) [ 32 160 5760 8192 8202 8239 8287 12288 ];
      breaks = map (n: p \"x\${c n}x\") [ 8232 8233 ];
      lengths = map (n: p (builtins.concatStringsSep \"\" (builtins.genList (_: \"🚀\") n))) [ 99 100 101 ];
    }"
ok "step names: C0, DEL, C1 and line breaks refused at their character; other characters below U+00A0 accepted; spaces only at the ends; 100 characters (not bytes)" '
  ([.inside | to_entries[] | select((.key + 1 < 32 or .key + 1 >= 127) != (.value != null))] | length) == 0
  and .inside[6] == "control character U+0007 at character 2" and .inside[132] == "control character U+0085 at character 2"
  and (.ends | all(.[2] == null and (.[0] | startswith("starts with a space (U+")) and (.[1] | startswith("ends with a space (U+"))))
  and .ends[1][0] == "starts with a space (U+00A0)" and .ends[7][1] == "ends with a space (U+3000)"
  and .breaks == ["line break U+2028 at character 2", "line break U+2029 at character 2"]
  and .lengths == [null, null, "more than 100 characters (101)"]'

ev --argstr jobFile "$(job plain-attrset-machine)" --argstr nixpkgs "$STUB"
ok "plain attribute-set job with an attribute-set machine" '.machine.drvPath != null and .steps[0].command == ["uname", "-a"]'

ev --argstr jobFile "$(job job-args)" --argstr nixpkgs "$STUB"
ok "job function gets the pkgs, lib and system it names" '
  (.steps[0].run | test("^/nix/store/[0-9a-z]{32}-hello/bin/hello$"))
  and .steps[0].env == {SYSTEM: "x86_64-linux", JOINED: "a,b"}'

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" --argstr system aarch64-linux
ok "aarch64-linux: its own system and a different image" ".machine.system == \"aarch64-linux\" and .machine.drvPath != \"$SEED\" and (.machine.drvPath | test(\"aarch64-linux.drv\$\"))"

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "path:$STUB"
ok "nixpkgs given as a flake reference (builtins.getFlake) works like the path" ".machine.drvPath == \"$SEED\""

ev --argstr machineFile "$(job machine-only)" --argstr nixpkgs "$STUB"
ok "machineFile alone (NixekMachineImage): {machine} with the seed job's image" "keys == [\"machine\"] and .machine.drvPath == \"$SEED\""

nix eval --json --impure "${NIXOPTS[@]}" --expr "import $ROOT/nix/eval.nix { jobFile = \"$(job seed)\"; nixpkgs = \"$STUB\"; agentJar = \"$AGENT_JAR\"; }" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
ok "nix eval --json --impure --expr prints the same document as nix-instantiate" ".machine.drvPath == \"$SEED\" and (.steps | length) == 2"

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$LEGACY"
LEGACY_SEED=$(drv)
ok "nixpkgs before 25.05 (no image/images.nix): image via amazonImage" ".machine.drvPath != \"$SEED\" and (.machine.drvPath | test(\"amazon-24.11.stub-x86_64-linux.drv\$\"))"

# --- jobs from a flake ----------------------------------------------------------------------------------

FLAKE="path:$T/fixtures/flake"
ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.hello-world --argstr nixpkgs "$STUB"
ok "flake ci.jobs.hello-world (a function called with {}): the seed's steps and image" "
  .steps == [{name: \"build\", run: \"cargo build --release\"}, {name: \"test\", run: \"cargo test\"}]
  and .machine.drvPath == \"$SEED\""

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.plain
ok "flake ci.jobs.plain (an attribute set, no machine)" '.machine == null and .steps == [{name: "greet", command: ["echo", "hello from a flake"]}]'

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.prototype-hello-world
ok "flake ci.jobs.prototype-hello-world ({ info ? \"\" }: ...): a display name" '.steps == [{name: "Check hello", run: "echo hello"}]'

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.prototype-should-fail
ok "flake ci.jobs.prototype-should-fail" '.steps == [{name: "This step fails", run: "exit 1"}]'

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.prototype-nested
ok "flake job function returning a function of { info ? \"\" }" '.steps == [{name: "Where / what", command: ["echo", "x86_64-linux", ""]}]'

# --- machine = false: steps only (the local provider boots no machine) -------------------------------------

ev --argstr jobFile "$(job seed)" --arg machine false
ok "machine = false: the seed's steps without nixpkgs, its machine marked skipped" '
  keys == ["machine", "machineSkipped", "steps"] and .machine == null and .machineSkipped == true
  and .steps == [{name: "build", run: "cargo build --release"}, {name: "test", run: "cargo test"}]'

ev --argstr jobFile "$(job prototype-command)" --arg machine false
ok "machine = false on a job without a machine: nothing skipped" 'keys == ["machine", "steps"] and .machine == null'

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.hello-world --arg machine false
ok "machine = false on a flake job: its steps, machine skipped" '.machineSkipped == true and (.steps | length) == 2'

ev --argstr jobFile "$T/broken/machine-not-a-module.nix" --arg machine false
rejects "machine = false still checks the machine's shape" "nixek: 'machine' must be a NixOS module"

ev --argstr jobFile "$T/broken/steps-error-before-machine-error.nix" --arg machine false
rejects "machine = false: step errors as before" "nixek: steps[0]"

ev --argstr machineFile "$(job machine-only)" --argstr nixpkgs "$STUB" --arg machine false
rejects "machine = false with a machineFile" "nixek: 'machine = false' is for jobs"

ev --argstr jobFile "$(job seed)" --argstr machine no
rejects "machine must be a boolean" "nixek: 'machine' must be true or false"

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.per-system --argstr system aarch64-linux
ok "flake job naming 'system' gets the evaluation's" '.steps[0].command == ["echo", "aarch64-linux"]'

if ! command -v git >/dev/null 2>&1; then
  skip "flake from a git repository at a revision (<url>?rev=<rev>)" "git is not installed"
else
mkdir -p "$TMP/jobs-repo" && cp "$T/fixtures/flake/flake.nix" "$TMP/jobs-repo/" \
  && git -C "$TMP/jobs-repo" init -q && git -C "$TMP/jobs-repo" add flake.nix \
  && git -C "$TMP/jobs-repo" -c user.name=t -c user.email=t@example.invalid commit -qm fixture
rev=$(git -C "$TMP/jobs-repo" rev-parse HEAD 2>/dev/null)
ev --argstr flake "git+file://$TMP/jobs-repo?rev=$rev" --argstr attribute ci.jobs.hello-world --argstr nixpkgs "$STUB"
ok "flake from a git repository at a revision (<url>?rev=<rev>)" ".machine.drvPath == \"$SEED\""
fi

# A flake whose own nixpkgs input (the stub, as a flake) builds its machines, not the evaluation's (legacy).
mkdir -p "$TMP/pinned"
cat >"$TMP/pinned/flake.nix" <<EOF
{
  inputs.nixpkgs.url = "path:$STUB";
  outputs = { self, nixpkgs }: {
    ci.jobs.build = { pkgs, ... }: {
      machine = import $(job machine-only);
      steps = [ { name = "build"; command = [ "\${pkgs.hello}/bin/hello" ]; } ];
    };
  };
}
EOF
# (A flake with inputs needs its flake.lock, as any repository's committed one.)
nix flake lock "${NIXOPTS[@]}" "path:$TMP/pinned" 2>"$TMP/err" || echo "flake lock: $(cat "$TMP/err")"
ev --argstr flake "path:$TMP/pinned" --argstr attribute ci.jobs.build --argstr nixpkgs "$LEGACY"
ok "a flake's own nixpkgs input wins over the evaluation's (for its machine and its pkgs)" "
  .machine.drvPath == \"$SEED\" and (.steps[0].command[0] | test(\"-hello/bin/hello\$\"))"

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.hello --argstr nixpkgs "$STUB"
rejects "flake without the attribute" "nixek: flake has no attribute 'ci.jobs.hello'"

ev --argstr flake "$FLAKE" --argstr attribute ci.jobs.broken
rejects "broken flake job" "nixek: duplicate step name 'a' (steps[0] and steps[1])"

ev --argstr flake "$FLAKE"
rejects "flake without an attribute path" "nixek: 'attribute' must be an attribute path"

nix flake show "${NIXOPTS[@]}" --json "$FLAKE" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
ok "nix flake show reads the fixture flake offline" 'has("ci")'

# --- identity: the image drvPath is the machine's content address ---------------------------------------

ev --argstr jobFile "$(job seed-other-steps)" --argstr nixpkgs "$STUB"
ok "same machine module in another job (other steps, other file) => same drvPath" ".machine.drvPath == \"$SEED\""

ev --argstr jobFile "$(job other-machine)" --argstr nixpkgs "$STUB"
ok "different machine => different drvPath" ".machine.drvPath != \"$SEED\" and (.machine.drvPath | test(\"$DRV_RE\"))"

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB"
ok "drvPath is stable across runs" ".machine.drvPath == \"$SEED\""

ev --argstr jobFile "$(job agent-settings)" --argstr nixpkgs "$STUB"
ok "agent settings are part of the machine => different drvPath" ".machine.drvPath != \"$SEED\""

ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" --argstr diskSizeGiB 8
ok "disk size is part of the image => different drvPath" ".machine.drvPath != \"$SEED\""

nx "(import (ROOT + \"/nix/lib/eval-job.nix\") { jobFile = ROOT + \"/nix/tests/jobs/seed.nix\"; nixpkgs = STUB; agent = pkgs: pkgs.hello; }).machine.drvPath"
ok "another agent package => different drvPath" ". != \"$SEED\""

# --- the agent jar: what the operator's pods give every machine ------------------------------------------

cp "$AGENT_JAR" "$TMP/renamed-agent.jar"
JAR_ARGS=(--argstr agentJar "$TMP/renamed-agent.jar")
ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB"
ok "the same jar bytes under another path and name => the same drvPath (the jar is taken by content)" ".machine.drvPath == \"$SEED\""
printf 'another agent jar\n' >"$TMP/other-agent.jar"
JAR_ARGS=(--argstr agentJar "$TMP/other-agent.jar")
ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB"
ok "another agent jar => another drvPath" ".machine.drvPath != \"$SEED\" and (.machine.drvPath | test(\"$DRV_RE\"))"
JAR_ARGS=()
ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB"
rejects "a machine evaluated without agentJar says what to pass" "nixek: evaluating a machine needs the agent jar: pass --argstr agentJar"
ev --argstr machineFile "$(job machine-only)" --argstr nixpkgs "$STUB"
rejects "machineFile without agentJar too" "nixek: evaluating a machine needs the agent jar"
ev --argstr jobFile "$(job prototype-command)"
ok "a job without a machine needs no agent jar" '.machine == null and (.steps | length) == 3'
ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" --argstr agentJar nixek-agent.jar
rejects "a relative agentJar" "nixek: 'agentJar' must be an absolute path to nixek-agent.jar, got 'nixek-agent.jar'"
ev --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" --argstr agentJar "$TMP/no-such.jar"
rejects "a missing agentJar names it" "nixek: agentJar $TMP/no-such.jar does not exist"
JAR_ARGS=(--argstr agentJar "$AGENT_JAR")
nx "(import (ROOT + \"/nix/lib/mkMachine.nix\") { machine = { }; nixpkgs = STUB; agentJar = AGENT; agent = pkgs: pkgs.hello; }).drvPath"
rejects "mkMachine: agentJar and agent together" "nixek: give either 'agentJar' or 'agent', not both"

# The operator's path never builds the agent with Maven: the machine's derivation closure has no Maven in it
# (and, as a check that the query can see it, the closure of a machine with the source-built agent has).
nix-instantiate "${NIXOPTS[@]}" "$ROOT/nix/machine.nix" --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" "${JAR_ARGS[@]}" >"$TMP/drv" 2>"$TMP/err" \
  && nix-instantiate "${NIXOPTS[@]}" -E "(import $ROOT/nix/lib/mkMachine.nix { machine = import $(job machine-only); nixpkgs = $STUB; })" >"$TMP/drv-source" 2>>"$TMP/err"
if [ $? -eq 0 ]; then
  with_jar=$(nix-store -qR "$(cat "$TMP/drv")" | grep -c -- '-maven') with_source=$(nix-store -qR "$(tail -1 "$TMP/drv-source")" | grep -c -- '-maven')
  if [ "$with_jar" -eq 0 ] && [ "$with_source" -gt 0 ]; then pass "no Maven in the machine's derivation closure with agentJar ($with_source Maven derivations with the source-built agent)"
  else fail "no Maven in the machine's derivation closure" "with agentJar: $with_jar, source-built: $with_source"; fi
else
  fail "no Maven in the machine's derivation closure" "$(tail -c 400 "$TMP/err")"
fi

# The machine's agent runs exactly that jar (same bytes) with the machine's JDK 17.
if out=$(nix-build --no-out-link "${NIXOPTS[@]}" -E "(import $ROOT/nix/lib/mkMachine.nix { machine = import $(job machine-only); nixpkgs = $STUB; agentJar = $AGENT_JAR; }).nixosConfig.services.nixek-agent.package" 2>"$TMP/err"); then
  wrapper=$(cat "$out/bin/nixek-agent" 2>/dev/null)
  jar_in_store=$(sed -n 's|.* -jar \(/nix/store/[0-9a-z]\{32\}-nixek-agent\.jar\) .*|\1|p' <<<"$wrapper")
  if [ -x "$out/bin/nixek-agent" ] && grep -qE '^exec /nix/store/[0-9a-z]{32}-jdk17_headless/bin/java -jar ' <<<"$wrapper" \
    && [ -n "$jar_in_store" ] && cmp -s "$jar_in_store" "$AGENT_JAR" && cmp -s "$out/share/nixek-agent/nixek-agent.jar" "$AGENT_JAR"; then
    pass "the machine's agent package runs the given jar, byte for byte, with jdk17_headless"
  else
    fail "the machine's agent package runs the given jar" "wrapper: $wrapper"
  fi
else
  fail "the machine's agent package builds" "$(tail -c 400 "$TMP/err")"
fi


ev --argstr jobFile "$(job own-nixpkgs)" --argstr nixpkgs "$STUB"
ok "a job's own 'nixpkgs' builds its machine" ".machine.drvPath == \"$LEGACY_SEED\""

# --- images (mkMachine) ---------------------------------------------------------------------------------

mk() { nx "let m = import (ROOT + \"/nix/lib/mkMachine.nix\") ({ machine = import (ROOT + \"/nix/tests/jobs/machine-only.nix\"); nixpkgs = STUB; agentJar = AGENT; } // $1); in $2"; }

mk '{ }' '{ n = m.name; ai = m.nixosConfig.systemd.services ? amazon-init; f = m.nixosConfig.amazonImage.format; efi = m.nixosConfig.ec2.efi; }'
ok "amazon image: VHD, nixpkgs' boot default, amazon-init (user-data → configuration.nix) disabled" '.ai == false and .f == "vpc" and .efi == false'

mk '{ nixpkgs = LEGACY; }' '{ ai = m.nixosConfig.systemd.services ? amazon-init; }'
ok "amazon-init is disabled on the pre-25.05 path too" '.ai == false'

mk '{ diskSizeGiB = 8; bootMode = "uefi"; diskFormat = "raw"; }' '{ s = m.nixosConfig.virtualisation.diskSize; efi = m.nixosConfig.ec2.efi; f = m.nixosConfig.amazonImage.format; }'
ok "image options: diskSizeGiB → virtualisation.diskSize (MiB), bootMode uefi → ec2.efi, raw" '.s == 8192 and .efi == true and .f == "raw"'

mk '{ nixpkgs = LEGACY; diskSizeGiB = 8; }' '{ s = m.nixosConfig.amazonImage.sizeMB; }'
ok "pre-25.05: diskSizeGiB → amazonImage.sizeMB" '.s == 8192'

mk '{ system = "aarch64-linux"; }' '{ efi = m.nixosConfig.ec2.efi; }'
ok "aarch64-linux boots with UEFI" '.efi == true'

mk '{ system = "aarch64-linux"; bootMode = "legacy-bios"; }' 'm.drvPath'
rejects "aarch64-linux with legacy-bios" "nixek: aarch64-linux EC2 images boot with UEFI only"

mk '{ diskFormat = "qcow2"; }' 'm.drvPath'
rejects "EC2 disk format must be vpc or raw" "nixek: diskFormat must be \"vpc\" or \"raw\", got 'qcow2'"

mk '{ format = "qemu"; }' '{ n = m.name; e = m.nixosConfig.systemd.services.nixek-agent.serviceConfig.ExecStart; k = m.nixosConfig.boot.kernelModules; }'
ok "qemu format: system.build.vm, job config from fw_cfg" '.n == "nixos-vm" and (.e | contains("\"--config=/sys/firmware/qemu_fw_cfg/by_name/opt/nixek/config/raw\"")) and (.e | contains("config-from-imds") | not) and .k == ["qemu_fw_cfg"]'

mk '{ machine = "rustup"; }' 'm.drvPath'
rejects "mkMachine rejects a machine that is not a module" "nixek: 'machine' must be a NixOS module (a function or an attribute set), got a string"

nix-instantiate "${NIXOPTS[@]}" "$ROOT/nix/machine.nix" --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" "${JAR_ARGS[@]}" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT=$(jq -Rn --arg d "$(cat "$TMP/out")" '$d') ERR=$(cat "$TMP/err")
ok "nix/machine.nix instantiates the very derivation the evaluation reported" ". == \"$SEED\""

if out=$(nix-build --no-out-link "${NIXOPTS[@]}" "$ROOT/nix/machine.nix" --argstr jobFile "$(job seed)" --argstr nixpkgs "$STUB" "${JAR_ARGS[@]}" 2>"$TMP/err"); then
  RC=0 OUT=$(cat "$out/nix-support/image-info.json" 2>/dev/null || echo '{}') ERR=""
  ok "stand-in image builds offline: \$out/*.vhd and nix-support/image-info.json as nixpkgs lays them out" "
    .system == \"x86_64-linux\" and .boot_mode == \"legacy-bios\" and .logical_bytes == \"4294967296\"
    and (.file | startswith(\"$out/\") and endswith(\".vhd\")) and .disks.root.file == .file"
  [ -s "$(jq -r .file "$out/nix-support/image-info.json")" ] && pass "stand-in image file exists" || fail "stand-in image file exists" "missing"
else
  fail "stand-in image builds offline" "$(tail -c 600 "$TMP/err")"
fi

nix-instantiate "${NIXOPTS[@]}" "$ROOT/nix/machine.nix" --argstr jobFile "$(job prototype-command)" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT="" ERR=$(cat "$TMP/err")
rejects "machine.nix for a job without machine" "nixek: the job has no 'machine'"

# --- the agent module -----------------------------------------------------------------------------------

cfg() { mk "{ machine = { ... }: { $1 }; }" "let c = m.nixosConfig; s = c.systemd.services; in $2"; }

cfg '' '{ a = s.nixek-agent; g = s.nixek-imds-guard; u = c.users.users.nixek-step; grp = c.users.groups ? nixek-step; t = c.systemd.tmpfiles.rules; }'
ok "agent unit: after network-online, requires the IMDS guard, runs once, powers off, no MemoryDenyWriteExecute" '
  (.a.after | index("network-online.target")) != null and (.a.wants | index("network-online.target")) != null
  and .a.requires == ["nixek-imds-guard.service"] and (.a.after | index("nixek-imds-guard.service")) != null
  and .a.serviceConfig.Restart == "no" and .a.serviceConfig.Type == "exec"
  and (.a.serviceConfig | has("MemoryDenyWriteExecute") | not) and (.a.serviceConfig | has("NoNewPrivileges") | not)
  and .a.unitConfig == {SuccessAction: "poweroff", FailureAction: "poweroff"}
  and (.a.path | map(tostring) | index("/run/current-system/sw")) != null
  and (.a.wantedBy == ["multi-user.target"])'
ok "step user nixek-step: unprivileged, own group, owns the work dir" '
  .u.isNormalUser == true and .u.group == "nixek-step" and .grp
  and .t == ["d /var/lib/nixek-step/work 0750 nixek-step nixek-step -"]'
ok "IMDS guard: oneshot before the agent, after (and part of) the firewall units" '
  .g.serviceConfig.Type == "oneshot" and .g.serviceConfig.RemainAfterExit == true
  and .g.before == ["nixek-agent.service"] and .g.partOf == ["nftables.service"]'

cfg '' 's.nixek-agent.serviceConfig.ExecStart'
EXEC=$(jq -r . <<<"$OUT")
ok "agent command line: config from IMDSv2, run as nixek-step, power off" '
  test("^/nix/store/[0-9a-z]{32}-nixek-agent-jar/bin/nixek-agent ")
  and contains("\"--config-from-imds=http://169.254.169.254\"") and contains("\"--run-as=nixek-step\"")
  and contains("\"--work-dir=/var/lib/nixek-step/work\"") and contains("\"--spool-dir=/var/lib/nixek-agent/spool\"")
  and contains("\"--poweroff\"") and contains("--poweroff-command=/nix/store/")'

cfg 'services.nixek-agent.poweroff = false; services.nixek-agent.settings.kill-grace-seconds = 30; services.nixek-agent.settings.new-flag = true;' \
  '{ e = s.nixek-agent.serviceConfig.ExecStart; u = s.nixek-agent.unitConfig; }'
ok "settings become flags (unknown ones passed on); poweroff = false leaves the machine up" '
  (.e | contains("\"--kill-grace-seconds=30\"") and contains("\"--new-flag\"") and (contains("\"--poweroff\"") | not))
  and .u == {}'

# Building the (stand-in) system realises the guard script its unit names.
machine="import $ROOT/nix/lib/mkMachine.nix { machine = import $(job machine-only); nixpkgs = $STUB; agentJar = $AGENT_JAR; }"
nix-build --no-out-link "${NIXOPTS[@]}" -E "($machine).nixosConfig.system.build.toplevel" >/dev/null 2>"$TMP/err" \
  && nix-instantiate --eval --json "${NIXOPTS[@]}" -E "($machine).nixosConfig.systemd.services.nixek-imds-guard.serviceConfig.ExecStart" >"$TMP/out" 2>>"$TMP/err"
if [ $? -eq 0 ] && guard=$(cat "$(jq -r . "$TMP/out")"); then
  if grep -qE "id -u '?nixek-step'?\)" <<<"$guard" \
    && grep -qF 'meta skuid $uid ip daddr 169.254.169.254 counter reject' <<<"$guard" \
    && grep -qF 'meta skuid $uid ip6 daddr fd00:ec2::254 counter reject' <<<"$guard" \
    && bash -n <<<"$guard"; then pass "IMDS guard script: rejects the step user's packets to IMDS (IPv4 and IPv6)"
  else fail "IMDS guard script" "unexpected script: $guard"; fi
else
  fail "IMDS guard script builds" "$(tail -c 400 "$TMP/err")"
fi

# The guard's own nft rules, with the step user's uid filled in, checked by nft and then applied in a private
# network namespace where a web server listens on both IMDS addresses: the step uid is refused, others are not.
rules=$(sed -n '/nft -f - <<EOF$/,/^EOF$/p' <<<"${guard:-}" | sed '1d;$d' | sed 's/\$uid/4242/g')
if [ -z "$rules" ]; then
  fail "IMDS guard rules" "no nft ruleset found in the guard script"
elif ! command -v nft >/dev/null 2>&1; then
  skip "IMDS guard rules: nft accepts them" "nft is not installed (apt-get install -y nftables)"
  skip "IMDS guard rules: step uid refused, other users not (network namespace)" "nft is not installed"
else
  printf '%s\n' "$rules" >"$TMP/guard.nft"
  if nft -c -f "$TMP/guard.nft" 2>"$TMP/err"; then pass "IMDS guard rules: nft accepts them"
  else fail "IMDS guard rules: nft accepts them" "$(cat "$TMP/err")"; fi
  if command -v unshare >/dev/null && command -v setpriv >/dev/null && command -v python3 >/dev/null \
    && unshare -n true 2>/dev/null; then
    unshare -n bash -c '
      ip link set lo up && ip addr add 169.254.169.254/32 dev lo && ip -6 addr add fd00:ec2::254/128 dev lo nodad || exit 9
      python3 -c "
import http.server, socket, socketserver, threading
class V4(socketserver.ThreadingMixIn, http.server.HTTPServer): pass
class V6(V4): address_family = socket.AF_INET6
for cls, addr in ((V4, \"169.254.169.254\"), (V6, \"fd00:ec2::254\")):
    threading.Thread(target=cls((addr, 80), http.server.SimpleHTTPRequestHandler).serve_forever, daemon=True).start()
threading.Event().wait(30)
" >/dev/null 2>&1 &
      sleep 0.5
      nft -f "$1" || exit 8
      get() { timeout 5 setpriv --reuid="$1" --regid="$1" --clear-groups bash -c "exec 3<>/dev/tcp/$2/80 && printf \"GET / HTTP/1.0\r\n\r\n\" >&3 && head -c 8 <&3" 2>/dev/null; }
      r1=$(get 4242 169.254.169.254); r2=$(get 4242 fd00:ec2::254); r3=$(get 4243 169.254.169.254); r4=$(get 0 169.254.169.254)
      kill %1
      echo "step-v4=${r1:-refused} step-v6=${r2:-refused} other=${r3:-refused} root=${r4:-refused}"
    ' _ "$TMP/guard.nft" >"$TMP/netns" 2>&1
    if [ "$(cat "$TMP/netns")" = "step-v4=refused step-v6=refused other=HTTP/1.0 root=HTTP/1.0" ]; then
      pass "IMDS guard rules: step uid refused on IPv4 and IPv6, other users and root not (network namespace)"
    else
      fail "IMDS guard rules in a network namespace" "$(head -c 400 "$TMP/netns")"
    fi
  else
    skip "IMDS guard rules: step uid refused, other users not (network namespace)" "needs unshare -n, setpriv and python3"
  fi
fi

jar=$REPO/agent/target/nixek-agent.jar
if [ -f "$jar" ] && command -v java >/dev/null 2>&1; then
  cfg 'services.nixek-agent.settings = { imds-timeout-seconds = 60; drain-timeout-seconds = 60; kill-grace-seconds = 5; };' 's.nixek-agent.serviceConfig.ExecStart'
  mapfile -t args < <(jq -r . <<<"$OUT" | jq -Rr 'capture("^[^ ]+ (?<rest>.*)$").rest | "[" + (gsub("\" \""; "\", \"")) + "]" | fromjson | .[]')
  if java -jar "$jar" "${args[@]}" --help >"$TMP/java" 2>&1; then pass "the agent jar accepts every flag the module passes (${#args[@]} args)"
  else fail "the agent jar accepts every flag the module passes" "$(tail -c 400 "$TMP/java")"; fi
else
  skip "the agent jar accepts every flag the module passes" "no $jar or no java (build the agent module first)"
fi

# --- the agent package ----------------------------------------------------------------------------------

nix-instantiate --read-write-mode --eval --strict --json "${NIXOPTS[@]}" -E "((import $STUB { }).callPackage $ROOT/nix/packages/agent.nix { }).src" >"$TMP/out" 2>"$TMP/err"
src=$(jq -r . "$TMP/out" 2>/dev/null)
if [ -d "$src" ]; then
  files=$(cd "$src" && find . -type f | sed 's|^\./||' | sort)
  missing=""
  for m in $(sed -n 's|.*<module>\([^<]*\)</module>.*|\1|p' "$ROOT/pom.xml"); do
    grep -qx "$m/pom.xml" <<<"$files" || missing="$missing $m/pom.xml"
  done
  extra=$(grep -vE '^(pom\.xml|[^/]+(/[^/]+)?/pom\.xml|agent/src/.*|protocol/src/.*|\.mvn/.*)$' <<<"$files" | head -3)
  if [ -z "$missing" ] && [ -z "$extra" ] && grep -q '^agent/pom.xml$' <<<"$files" && ! grep -q '/target/' <<<"$files"; then
    pass "agent source: every reactor pom, the agent's and protocol's sources, nothing else ($(wc -l <<<"$files") files)"
  else
    fail "agent source filter" "missing:$missing extra: $extra"
  fi
else
  fail "agent source filter" "$(tail -c 400 "$TMP/err")"
fi

nx "let p = (import STUB { }).callPackage (ROOT + \"/nix/packages/agent.nix\") { }; in { inherit (p) mvnParameters installPhase; n = p.name; }"
ok "agent package: mvn -pl agent -am, placeholder mvnHash" '.mvnParameters == "-B -pl agent -am" and .n == "nixek-agent-0.1.0"'
if jq -r .installPhase <<<"$OUT" | sed 's/runHook [a-zA-Z]*/true/' | bash -n 2>"$TMP/err"; then pass "agent package: installPhase is valid bash"
else fail "agent package: installPhase is valid bash" "$(cat "$TMP/err")"; fi

# --- the root flake's outputs, with the stub as its nixpkgs input ---------------------------------------

nx "let
      flake = import (ROOT + \"/flake.nix\");
      self = flake.outputs { inherit self; nixpkgs = builtins.getFlake \"path:\${toString STUB}\"; } // { outPath = ROOT; };
    in {
      outputs = builtins.attrNames self;
      lib = builtins.attrNames self.lib;
      modules = builtins.attrNames self.nixosModules;
      same = self.nixosModules.default == self.nixosModules.agent;
      packages = builtins.mapAttrs (_: builtins.attrNames) self.packages;
      checks = builtins.mapAttrs (_: builtins.attrNames) self.checks;
      agents = builtins.mapAttrs (_: p: p.agent.drvPath) self.packages;
      evalJob = self.lib.evalJob { jobFile = ROOT + \"/nix/tests/jobs/seed.nix\"; agentJar = AGENT; };
      mkMachine = (self.lib.mkMachine { machine = import (ROOT + \"/nix/tests/jobs/machine-only.nix\"); agentJar = AGENT; }).drvPath;
      sourceAgent = (self.lib.mkMachine { machine = import (ROOT + \"/nix/tests/jobs/machine-only.nix\"); }).nixosConfig.services.nixek-agent.package.drvPath;
      inputs = builtins.attrNames (flake.inputs or { });
      inputUrl = flake.inputs.nixpkgs.url;
    }"
ok "flake.nix outputs: lib.{mkMachine,evalJob}, nixosModules.{agent,default}, packages/checks for both systems" "
  .outputs == [\"checks\", \"lib\", \"nixosModules\", \"outPath\", \"packages\"]
  and .lib == [\"evalJob\", \"mkMachine\"] and .modules == [\"agent\", \"default\"] and .same
  and .packages == {\"aarch64-linux\": [\"agent\", \"default\"], \"x86_64-linux\": [\"agent\", \"default\"]}
  and .checks == {\"aarch64-linux\": [\"agent\"], \"x86_64-linux\": [\"agent\"]}
  and .agents[\"x86_64-linux\"] != .agents[\"aarch64-linux\"]
  and .evalJob.machine.drvPath == \"$SEED\" and .mkMachine == \"$SEED\"
  and .sourceAgent == .agents[\"x86_64-linux\"]
  and .inputs == [\"nixpkgs\"] and .inputUrl == \"github:NixOS/nixpkgs/nixos-25.05\""

# --- broken jobs: each fails with its message, and prints no partial JSON -------------------------------

for f in "$T"/broken/*.nix; do
  expected=$(sed -n '1s/^# expect: //p' "$f")
  ev --argstr jobFile "$f" --argstr nixpkgs "$STUB"
  rejects "broken/${f##*/}" "$expected"
done

# What the operator parses: with --log-format internal-json, the error is a JSON line with raw_msg and, for
# errors at a place in a file, file/line/column.
nix-instantiate --eval --strict --json --log-format internal-json "${NIXOPTS[@]}" "$ROOT/nix/eval.nix" \
  --argstr jobFile "$T/broken/syntax-error.nix" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT=$(sed -n 's/^@nix //p' "$TMP/err" | jq -s 'map(select(.raw_msg != null)) | first') ERR=""
if [ "$RC" -ne 0 ]; then RC=0; else RC=1; fi
# (the image's Nix, 2.26, repeats the position in "file"; nixek-builder's NixErrors takes it off)
ok "--log-format internal-json: syntax error with file, line and column" "
  (.raw_msg | startswith(\"syntax error\")) and .file == \"$T/broken/syntax-error.nix:3:44\" and .line == 3 and .column == 44"

nix-instantiate --eval --strict --json --log-format internal-json "${NIXOPTS[@]}" "$ROOT/nix/eval.nix" \
  --argstr jobFile "$T/broken/duplicate-names.nix" >"$TMP/out" 2>"$TMP/err"
RC=$? OUT=$(sed -n 's/^@nix //p' "$TMP/err" | jq -s 'map(select(.raw_msg != null)) | first') ERR=""
if [ "$RC" -ne 0 ]; then RC=0; else RC=1; fi
ok "--log-format internal-json: shape error as raw_msg \"nixek: ...\"" '.raw_msg == "nixek: duplicate step name '"'test'"' (steps[1] and steps[2])"'

ev --argstr nixpkgs "$STUB"
rejects "no job given" "nixek: give exactly one of 'job', 'jobFile' or 'flake'"

ev --argstr jobFile nix/tests/jobs/seed.nix --argstr nixpkgs "$STUB"
rejects "relative jobFile" "nixek: 'jobFile' must be an absolute path, got 'nix/tests/jobs/seed.nix'"

ev --argstr jobFile "$(job seed)"
rejects "a machine but no nixpkgs" "nixek: the job has a 'machine', but no nixpkgs was given"

ev --argstr jobFile "$TMP/does-not-exist.nix" --argstr nixpkgs "$STUB"
rejects "missing job file" "does-not-exist.nix"

# --- this script without nix ----------------------------------------------------------------------------

if [ -z "${NIXEK_NIX_TESTS_INNER:-}" ]; then
  NIXEK_NIX_TESTS_INNER=1 PATH=/nonexistent /bin/bash "$0" >"$TMP/inner" 2>&1
  rc=$?
  if [ $rc -eq 2 ] && grep -q "^FAIL nix is not installed" "$TMP/inner"; then pass "run.sh without nix: clear message, exit 2"
  else fail "run.sh without nix" "exit $rc: $(head -c 300 "$TMP/inner")"; fi
fi

echo "nix/tests: $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
