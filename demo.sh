#!/usr/bin/env bash
# README command 1: builds nixek-ci and runs one job end to end on the embedded defaults -- the fabric8 mock API
# server (unless KUBECONFIG points at a cluster), the operator and the report API as separate processes, the
# local provider running the real agent. A job written in Nix is evaluated by the operator as a local process
# (the image's Nix from hack/current-nix.sh, installed into .cache/nix on first use). Exits 0 only if the job
# succeeded.
#
#   ./demo.sh                                   examples/hello-nix-job.yaml (a job written in Nix)
#   ./demo.sh examples/hello-job.yaml           the same kind of job written out in YAML
#   ./demo.sh examples/broken-nix-job.yaml      exits 1 with nix's message (EvaluationFailed)
#   ./demo.sh examples/should-fail-job.yaml     exits 1, naming the failing step
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-examples/hello-nix-job.yaml}"
if [ ! -f "$job" ]; then
  echo "demo.sh: no such job manifest: $job" >&2
  exit 64
fi
# a job written in Nix (spec.nix or spec.flake) needs nix: the image's version (hack/nix-version), unpacked from
# Debian trixie into the ignored .cache/nix as test.sh does, or else a nix-instantiate already on PATH
if grep -Eq '^[[:space:]]+(nix|flake):' "$job"; then
  if nixbin="$(hack/current-nix.sh 2>/dev/null)"; then
    export PATH="$nixbin:$PATH"
  elif ! command -v nix-instantiate >/dev/null 2>&1; then
    echo "demo.sh: $job is a job written in Nix; evaluating it needs nix: hack/current-nix.sh could not install" >&2
    echo "  the image's Nix (run it to see why), and no nix-instantiate is on PATH (Nix 2.18 or later)" >&2
    echo "  (or run ./demo.sh examples/hello-job.yaml, which needs no nix)" >&2
    exit 64
  fi
fi
echo "==> building (mvn -B -q -DskipTests install -pl demo -am)" >&2
mvn -B -q -DskipTests install -pl demo -am
exec java -Dnixek.home=. -jar demo/target/nixek-demo.jar "$job" "${2:-300}"
