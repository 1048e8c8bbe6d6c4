#!/usr/bin/env bash
# Builds every Go tool the tests run (kube-apiserver, etcd, helm, kstatus-check, promtool, Gitea, and whatever is
# added to TOOLS below) into ${NIXEK_BIN_CACHE:-<repo>/.cache/bin}, one after another (each build already uses every
# core), and checks each. test.sh runs this in the background while Maven compiles and runs the tiers that need no tool: a
# test that needs a tool waits for this script (dev.nixek.ci.testing.kube.TestBinaries) instead of failing early.
#
#   hack/build-tools.sh [STATUS_FILE]
#
# STATUS_FILE (optional) holds "building" while this runs, then "ok", or "failed: <script>" for the first build or
# check that failed. Builds are cached: on a warm machine the whole script takes a few seconds.
set -uo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATUS="${1:-}"

# In the order the test tiers first need them: kube-apiserver/etcd (the harness module), then the metrics and
# health checkers (controller and e2e modules), then Gitea (the largest cold build; its tests run in e2e).
TOOLS=(build-test-binaries.sh build-kstatus-check.sh build-promtool.sh build-gitea.sh)

set_status() { if [[ -n "${STATUS}" ]]; then printf '%s\n' "$1" > "${STATUS}.tmp" && mv "${STATUS}.tmp" "${STATUS}"; fi; }

set_status building
for tool in "${TOOLS[@]}"; do
  start=$(date +%s)
  if ! "${HACK_DIR}/${tool}" || ! "${HACK_DIR}/${tool}" --check; then
    echo "[build-tools] ${tool} FAILED after $(( $(date +%s) - start )) s" >&2
    set_status "failed: ${tool}"
    exit 1
  fi
  echo "[build-tools] ${tool} done in $(( $(date +%s) - start )) s" >&2
done
set_status ok
