#!/usr/bin/env bash
# Regenerates the CRD YAML from the Java types (crds module) and copies it into the Helm chart.
# The copy in charts/nixek-ci/crds is committed; GeneratedCrdsTest fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -pl crds -am process-classes
mkdir -p charts/nixek-ci/crds
rm -f charts/nixek-ci/crds/*.yml
cp crds/target/classes/META-INF/fabric8/*.yml charts/nixek-ci/crds/
git status --short charts/nixek-ci/crds
