#!/usr/bin/env bash
# Scale benchmark of the operator on a real kube-apiserver + etcd with the EC2 fake: JOBS live NixekJobs (2/5
# waiting for an image, 2/5 running on the fake, 1/5 finished), then EC2 calls per minute at steady state, operator
# heap after a full GC, restart → every job reconciled once, and apply → RunInstances latency with the image Ready.
# Prints what it measured; numbers so far are in README.md. Not a test: nothing in mvn runs it.
#
#   bench/scale/run.sh                        # JOBS=2000 (about 10 minutes here)
#   JOBS=10000 XMX=256m bench/scale/run.sh    # the issue's 10,000 jobs, with the heap target as the limit
#
# Knobs (environment): JOBS (2000), MIX (2:2:1: parts waiting:running:finished), POLL (5: NIXEK_POLL_SECONDS), STEADY (60 s of steady state measured, twice),
# LATENCY_JOBS (200), LATENCY_RATE (10 creates/s), XMX (512m, the operator's heap limit), NIXEK_* (passed on to the
# operator), WORK (a new directory under /tmp), KEEP=1 keeps WORK (operator logs and GC logs).
# Needs: java 17 (with jcmd), mvn, kubectl, etcd and kube-apiserver in .cache/bin (hack/build-test-binaries.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${WORK:-$(mktemp -d /tmp/nixek-scale.XXXXXX)}
mkdir -p "$work"
cleanup() { if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT
log() { echo "== $*" >&2; }

for bin in etcd kube-apiserver; do
  [ -x .cache/bin/$bin ] || { echo "missing .cache/bin/$bin: run hack/build-test-binaries.sh" >&2; exit 64; }
done
log "building operator/controller/target/nixek-operator.jar"
mvn -B -q -o -pl operator/controller -am package -DskipTests
log "compiling e2e's test classes and resolving their class path"
mvn -B -q -o -pl e2e -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp=e2e/target/test-classes:$(cat e2e/target/bench-classpath.txt)

log "running (work directory $work)"
WORK=$work java -Xmx2g -Dnixek.home="$root" -cp "$cp" dev.nixek.ci.e2e.bench.ScaleBench 2>"$work/bench.err" \
  | tee "$work/out.txt" || { tail -40 "$work/bench.err" >&2; exit 1; }
