#!/usr/bin/env bash
# Log ingest benchmark: 1 KiB output chunks from open-loop agents over JOBS jobs into the report API on a real
# kube-apiserver + etcd, the log store on s3proxy, at each rate of RATES. Prints a table; README.md says what each
# column means and how the numbers were taken. Not a test: nothing in mvn runs it. Bounded: about
# (DURATION + DRAIN + ~10 s) per rate plus a 10 s warm-up, 127.0.0.1 only.
#
#   bench/log-ingest/run.sh                         # 50 100 200 500 1000 chunks/s, 30 s each
#   RATES=100 DURATION=20 bench/log-ingest/run.sh   # one rate (a smoke run)
#
# Knobs (environment): RATES ("50 100 200 500 1000"), DURATION (30 s per rate), DRAIN (15 s after a schedule's end
# before the rest is given up), JOBS (20), CHUNK_BYTES (1024), XMX (256m, the report API's heap), NIXEK_REPORT_* and
# NIXEK_LOG_* (passed on to the report API, e.g. NIXEK_REPORT_STATUS_INTERVAL_MILLIS), WORK (a new directory under
# /tmp), KEEP=1 keeps WORK (the report API's log, kube-apiserver's work directory, s3proxy's files).
# Needs: java 17, mvn, kubectl, etcd and kube-apiserver in .cache/bin (hack/build-test-binaries.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${WORK:-$(mktemp -d /tmp/nixek-log-ingest.XXXXXX)}
mkdir -p "$work"
cleanup() { if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi; }
trap cleanup EXIT
log() { echo "== $*" >&2; }

for bin in etcd kube-apiserver; do
  [ -x .cache/bin/$bin ] || { echo "missing .cache/bin/$bin: run hack/build-test-binaries.sh" >&2; exit 64; }
done
if [ ! -f operator/report-api/target/nixek-report-api.jar ] || [ "${REBUILD:-0}" = 1 ]; then
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
WORK=$work java -Xmx1g -Dnixek.home="$root" -cp "$cp" dev.nixek.ci.e2e.bench.LogIngestBench 2>"$work/bench.err" \
  | tee "$work/out.txt" || { tail -40 "$work/bench.err" >&2; exit 1; }
