#!/usr/bin/env bash
# What fetching 10 secrets adds to a job: the operator reading and sealing 10 Secrets at launch, and the agent
# fetching them from the report API before the first step (its own timing, from its log), on a real kube-apiserver +
# etcd with the report API as its own process and the local provider's real agent. Prints a table; README.md says
# how the numbers were taken. Not a test: nothing in mvn runs it.
#
#   bench/secrets-fetch/run.sh                  # RUNS=50 seals, JOBS=10 jobs
#   RUNS=10 JOBS=3 bench/secrets-fetch/run.sh   # a smoke run
#
# Needs: java 17, mvn, etcd and kube-apiserver in .cache/bin (hack/build-test-binaries.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${WORK:-$(mktemp -d /tmp/nixek-secrets-fetch.XXXXXX)}
trap 'if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi' EXIT
for bin in etcd kube-apiserver; do
  [ -x .cache/bin/$bin ] || { echo "missing .cache/bin/$bin: run hack/build-test-binaries.sh" >&2; exit 64; }
done
if [ ! -f operator/report-api/target/nixek-report-api.jar ] || [ ! -f agent/target/nixek-agent.jar ] \
    || [ "${REBUILD:-0}" = 1 ]; then
  mvn -B -q -o -pl agent,operator/report-api -am package -DskipTests
fi
mvn -B -q -o -pl e2e -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp=e2e/target/test-classes:$(cat e2e/target/bench-classpath.txt)
WORK=$work java -Xmx512m -Dnixek.home="$root" -cp "$cp" dev.nixek.ci.e2e.bench.SecretsFetchBench
