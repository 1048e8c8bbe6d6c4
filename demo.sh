#!/usr/bin/env bash
# README command 1: builds nixek-ci and runs one job end to end on the embedded defaults -- the fabric8 mock API
# server (unless KUBECONFIG points at a cluster), the operator and the report API as separate processes, the
# local provider running the real agent. A job written in Nix is evaluated by the operator as a local process
# (nix-instantiate from PATH). Exits 0 only if the job succeeded.
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
# a job written in Nix (spec.nix or spec.flake) needs nix: say so before the build, not after it
if grep -Eq '^[[:space:]]+(nix|flake):' "$job" && ! command -v nix-instantiate >/dev/null 2>&1; then
  echo "demo.sh: $job is a job written in Nix; evaluating it needs nix-instantiate on PATH" >&2
  echo "  (Nix 2.18 or later, e.g. apt-get install nix-bin; or run ./demo.sh examples/hello-job.yaml)" >&2
  exit 64
fi
echo "==> building (mvn -B -q -DskipTests install -pl demo -am)" >&2
mvn -B -q -DskipTests install -pl demo -am
exec java -Dnixek.home=. -jar demo/target/nixek-demo.jar "$job" "${2:-300}"
