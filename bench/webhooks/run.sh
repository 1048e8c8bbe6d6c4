#!/usr/bin/env bash
# Webhook handler latency (bench/webhooks/README.md): prints a WEBHOOK-LATENCY line. Not a test: nothing in the
# suite runs it.
#
#   bench/webhooks/run.sh                      # 50 deliveries/s for 30 s over 10 repositories
#   RATE=200 SECONDS_=60 bench/webhooks/run.sh
#
# Needs: java 17, maven (offline repository warm).
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -o -pl operator/report-api -am verify -Dtest=WebhookBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Drate="${RATE:-50}" -Dseconds="${SECONDS_:-30}" -Drepos="${REPOS:-10}" | grep -E "Tests run:|FAIL|ERROR" || true
grep WEBHOOK-LATENCY operator/report-api/target/surefire-reports/dev.nixek.ci.report.WebhookBench-output.txt
