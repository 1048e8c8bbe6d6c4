#!/usr/bin/env bash
# README command 1: builds nixek-ci and runs one job end to end on the embedded defaults -- the fabric8 mock API
# server (unless KUBECONFIG points at a cluster), the operator and the report API as separate processes, the
# local provider running the real agent. Exits 0 only if the job succeeded.
#
#   ./demo.sh                                 examples/hello-job.yaml
#   ./demo.sh examples/should-fail-job.yaml   exits 1, naming the failing step
set -euo pipefail
cd "$(dirname "$0")"
job="${1:-examples/hello-job.yaml}"
echo "==> building (mvn -B -q -DskipTests install -pl demo -am)" >&2
mvn -B -q -DskipTests install -pl demo -am
exec java -Dnixek.home=. -jar demo/target/nixek-demo.jar "$job" "${2:-300}"
