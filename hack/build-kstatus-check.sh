#!/usr/bin/env bash
# Builds hack/kstatus-check (kstatus's verdict on an object, from sigs.k8s.io/cli-utils) from the Go module proxy
# into ${NIXEK_BIN_CACHE:-<repo>/.cache/bin}/kstatus-check, once: it is rebuilt only when its sources or go.sum
# change (their hash is recorded beside the binary). One small command; k8s.io/api and apimachinery are pinned at
# kube-apiserver's version (hack/k8s-bins/apiserver), so after that build most packages come from Go's build cache
# (~10 s). Cold (empty module and build caches) it took 520 s on the 2 shared cores at a load average of 20-35.
#
#   hack/build-kstatus-check.sh            build if missing or out of date
#   hack/build-kstatus-check.sh --check    only verify that it exists, is current and runs
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
SRC="${HACK_DIR}/kstatus-check"
BIN_DIR="${NIXEK_BIN_CACHE:-${REPO_ROOT}/.cache/bin}"
BIN="${BIN_DIR}/kstatus-check"
STAMP="${BIN}.sources"

log() { echo "[build-kstatus-check] $*" >&2; }

sources_hash() { cat "${SRC}/go.mod" "${SRC}/go.sum" "${SRC}"/*.go | sha256sum | cut -d' ' -f1; }

# A Deployment-shaped object with a Stalled condition: kstatus must call it Failed.
runs() {
  printf '%s' '{"apiVersion":"ci.nixek.dev/v1alpha1","kind":"NixekJob","metadata":{"name":"x","generation":1},
    "status":{"observedGeneration":1,"conditions":[{"type":"Stalled","status":"True","reason":"R","message":"m"}]}}' \
    | "${BIN}" | grep -q '^Failed'
}

current() { [[ -x "${BIN}" && -f "${STAMP}" && "$(cat "${STAMP}")" == "$(sources_hash)" ]] && runs; }

if [[ "${1:-}" == --check ]]; then
  if current; then log "ok      ${BIN}"; exit 0; fi
  log "MISSING or stale ${BIN}; run hack/build-kstatus-check.sh"
  exit 1
fi

if current; then
  log "up to date, skipping"
  exit 0
fi
command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
mkdir -p "${BIN_DIR}"
start=${SECONDS}
tmp="${BIN_DIR}/.kstatus-check.tmp.$$"
(cd "${SRC}" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
  go build -trimpath -ldflags "-s -w" -o "${tmp}" .) || { rm -f "${tmp}"; log "BUILD FAILED"; exit 1; }
mv -f "${tmp}" "${BIN}"
sources_hash > "${STAMP}"
runs || { log "built, but it does not run"; exit 1; }
log "built in $(( SECONDS - start ))s"
