#!/usr/bin/env bash
# Proves that a job's machine identity depends on the sources only: two clean copies of this repository (its tracked
# and untracked, not ignored, files: what a clone of the working tree holds, without target/) each build the agent jar
# with Maven, and
#   - the two jars are byte-identical (the root pom's project.build.outputTimestamp);
#   - the seed job's machine, evaluated in each copy with its own nix/, stub nixpkgs and jar, has one drvPath;
#   - the same bytes under another file name give that drvPath too, and a changed jar gives another.
# Prints PASS/FAIL per case and "N passed, N failed"; exits 1 on a failure, 2 when a tool is missing.
# MachineIdentityIT (e2e) runs it in the suite.
#
#   hack/machine-identity.sh            MVN=/path/to/mvn and MAVEN_REPO=<local repository> are honoured
#
# The builds are offline (-o, -q, tests skipped) against the local Maven repository: build the reactor once first.
set -u

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MVN=${MVN:-mvn}
for tool in git "$MVN" nix-instantiate sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL $tool is not installed: this check needs git, Maven, nix and sha256sum"
    echo "0 passed, 1 failed"
    exit 2
  fi
done
if ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  echo "FAIL $repo is not a git checkout: the clean copies are made from its file list"
  echo "0 passed, 1 failed"
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# copy <dir>: the working tree's files that a clone would hold (tracked ones deleted in the tree are left out).
copy() {
  mkdir -p "$1"
  (cd "$repo" && git ls-files -z -co --exclude-standard) | while IFS= read -r -d '' f; do
    if [ -f "$repo/$f" ]; then printf '%s\0' "$f"; fi
  done | (cd "$repo" && tar --null -T - -cf -) | tar -C "$1" -xf -
}

mvn_args=(-B -q -o -pl agent -am package -Dmaven.test.skip=true)
if [ -n "${MAVEN_REPO:-}" ]; then mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO"); fi

# evaluate <copy> <jar>: the seed job's machine drvPath, with that copy's nix/ and stub nixpkgs.
evaluate() {
  nix-instantiate --eval --strict --json --option substituters '' "$1/nix/eval.nix" \
    --argstr jobFile "$1/nix/tests/jobs/seed.nix" --argstr nixpkgs "$1/nix/tests/stub-nixpkgs" \
    --argstr agentJar "$2" 2>"$tmp/eval.err" | sed -n 's/.*"drvPath":"\([^"]*\)".*/\1/p'
}

for c in a b; do
  copy "$tmp/$c" || { fail "copy $c of the repository" "tar failed"; finish; }
  started=$(date +%s)
  if (cd "$tmp/$c" && "$MVN" "${mvn_args[@]}") >"$tmp/$c.log" 2>&1 && [ -f "$tmp/$c/agent/target/nixek-agent.jar" ]; then
    echo "built the agent jar in copy $c ($(($(date +%s) - started)) s)"
  else
    fail "build the agent jar in copy $c" "$(tail -c 1500 "$tmp/$c.log")"
    finish
  fi
done

jar_a=$tmp/a/agent/target/nixek-agent.jar jar_b=$tmp/b/agent/target/nixek-agent.jar
sum_a=$(sha256sum "$jar_a" | cut -d' ' -f1) sum_b=$(sha256sum "$jar_b" | cut -d' ' -f1)
if [ "$sum_a" = "$sum_b" ]; then pass "two clean builds give a byte-identical agent jar (sha256 $sum_a)"
else fail "two clean builds give a byte-identical agent jar" "$sum_a != $sum_b (project.build.outputTimestamp?)"; fi

drv_a=$(evaluate "$tmp/a" "$jar_a") drv_b=$(evaluate "$tmp/b" "$jar_b")
if [ -z "$drv_a" ] || [ -z "$drv_b" ]; then
  fail "the seed job's machine evaluates in both copies" "$(tail -c 800 "$tmp/eval.err")"
elif [ "$drv_a" = "$drv_b" ]; then pass "the seed job's machine has one drvPath from two clean copies ($drv_a)"
else fail "the seed job's machine has one drvPath from two clean copies" "$drv_a != $drv_b"; fi

# The image's name for the jar is nixek-agent.jar too, but the drvPath must not depend on the name at all.
cp "$jar_a" "$tmp/renamed.jar"
drv_renamed=$(evaluate "$tmp/a" "$tmp/renamed.jar")
if [ -n "$drv_a" ] && [ "$drv_renamed" = "$drv_a" ]; then pass "the same jar bytes under another name give the same drvPath"
else fail "the same jar bytes under another name give the same drvPath" "${drv_renamed:-no drvPath} vs ${drv_a:-none}"; fi

cp "$jar_a" "$tmp/changed.jar" && printf 'x' >>"$tmp/changed.jar"
drv_changed=$(evaluate "$tmp/a" "$tmp/changed.jar")
if [ -n "$drv_changed" ] && [ "$drv_changed" != "$drv_a" ]; then pass "a changed agent jar gives another drvPath ($drv_changed)"
else fail "a changed agent jar gives another drvPath" "${drv_changed:-no drvPath: $(tail -c 400 "$tmp/eval.err")}"; fi

finish
