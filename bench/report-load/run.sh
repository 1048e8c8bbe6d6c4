#!/usr/bin/env bash
# Load benchmark of the report API on a real kube-apiserver + etcd: open-loop agents' reports, a rate sweep, and the
# same load while unknown-token requests and slow connections hit the same port. Prints a table; numbers measured
# so far are in README.md. Not a test: nothing in mvn runs it.
#
#   bench/report-load/run.sh                                   # sweep, then quiet and attack at 500/s for 600 s each
#   PHASES="quiet attack" RATE=50 DURATION=60 bench/report-load/run.sh
#   PHASES=sweep SWEEP="25 50 100" SWEEP_DURATION=30 bench/report-load/run.sh
#
# Knobs (environment): PHASES ("warmup sweep quiet attack"), RATE (500 reports/s; "swept": the highest rate the
# sweep sustained), JOBS (20), DURATION (600 s), SWEEP
# ("25 50 100 200 500"), SWEEP_DURATION (60 s), DRAIN (30 s after a schedule's end before the rest is given up),
# STEPS (4 per job), CHUNK_BYTES (512 per output chunk), ATTACK_RATE (2000 unknown-token requests/s), SLOW (500 slow
# connections), SLOW_INTERVAL_MS (2000: one header line per slow connection this often), ATTACK_SOURCES (1 loopback
# address for the attack), XMX (256m, the report API's heap), NIXEK_REPORT_* (passed on to the report API), WORK (a
# new directory under /tmp), KEEP=1 keeps WORK (logs, GC log, kube-apiserver's work directory).
# Needs: java 17, mvn, kubectl, etcd and kube-apiserver in .cache/bin (hack/build-test-binaries.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${WORK:-$(mktemp -d /tmp/nixek-report-load.XXXXXX)}
mkdir -p "$work"
cleanup() { if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT
log() { echo "== $*" >&2; }

for bin in etcd kube-apiserver; do
  [ -x .cache/bin/$bin ] || { echo "missing .cache/bin/$bin: run hack/build-test-binaries.sh" >&2; exit 64; }
done
if [ ! -f operator/report-api/target/nixek-report-api.jar ]; then
  log "building operator/report-api/target/nixek-report-api.jar"
  mvn -B -q -o -pl operator/report-api -am package -DskipTests
fi
# the bench's classes live in e2e's test sources (next to the harness); the reactor resolves the sibling modules to
# their target/classes, so nothing is installed into ~/.m2
log "compiling e2e's test classes and resolving their class path"
mvn -B -q -o -pl e2e -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
cp=e2e/target/test-classes:$(cat e2e/target/bench-classpath.txt)

log "running (work directory $work)"
WORK=$work java -Xmx1g -Dnixek.home="$root" -cp "$cp" dev.nixek.ci.e2e.bench.ReportLoadBench 2>"$work/bench.err" \
  | tee "$work/out.txt" || { tail -40 "$work/bench.err" >&2; exit 1; }
