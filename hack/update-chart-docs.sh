#!/usr/bin/env bash
# Regenerates the configuration table of charts/nixek-ci/README.md from values.yaml and the options defined in the
# code (OperatorConfig.OPTIONS, ReportApiConfig.OPTIONS). ChartValuesTest fails when the committed table is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl e2e -am verify -Dtest=ChartValuesTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dnixek.updateDocs=true >/dev/null
git status --short charts/nixek-ci/README.md
