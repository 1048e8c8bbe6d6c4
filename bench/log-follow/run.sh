#!/usr/bin/env bash
# Follow latency of the logs endpoint (bench/log-follow/README.md): prints two FOLLOW-LATENCY lines. Not a test:
# nothing in the suite runs it.
#
#   bench/log-follow/run.sh                       # 500 chunks of 1 KiB, one every 10 ms
#   CHUNKS=2000 INTERVAL_MICROS=2000 bench/log-follow/run.sh
#
# Needs: the test binaries in .cache/bin (hack/build-test-binaries.sh), java 17, maven (offline repository warm).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -o -pl operator/report-api -am verify -Dtest=LogFollowLatencyBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dchunks="${CHUNKS:-500}" -DchunkBytes="${CHUNK_BYTES:-1024}" \
  -DintervalMicros="${INTERVAL_MICROS:-10000}" | grep -E "Tests run:|FAIL|ERROR" || true
grep FOLLOW-LATENCY operator/report-api/target/surefire-reports/dev.nixek.ci.report.LogFollowLatencyBench-output.txt
