#!/usr/bin/env bash
# Builds promtool -- Prometheus's own checker, which the metrics tests run on the scraped /metrics text -- from the Go
# module proxy, using the wrapper module hack/promtool/ (go.mod + go.sum pin every dependency).
#
#   hack/build-promtool.sh            build it unless present at the pinned version
#   hack/build-promtool.sh --force    rebuild
#   hack/build-promtool.sh --check    only verify it exists, is the pinned version and runs; no build
#
# Output: ${NIXEK_BIN_CACHE:-<repo>/.cache/bin}/promtool, with a line "promtool <version> <go version> <seconds>" in
# VERSIONS beside it (as hack/build-test-binaries.sh keeps for its binaries). Small on purpose: one main package,
# built with -tags remove_all_sd (none of Prometheus's service-discovery plugins, which promtool's checks do not
# need), -trimpath -ldflags=-s -w. A cold build (empty GOCACHE) takes about 4.5 CPU-minutes.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
WRAPPER="${HACK_DIR}/promtool"
BIN_DIR="${NIXEK_BIN_CACHE:-${REPO_ROOT}/.cache/bin}"
VERSIONS_FILE="${BIN_DIR}/VERSIONS"
BIN="${BIN_DIR}/promtool"
MODULE=github.com/prometheus/prometheus

MODE=build
FORCE=0
for arg in "$@"; do
  case "${arg}" in
    --check) MODE=check ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: ${arg}" >&2; exit 2 ;;
  esac
done

log() { echo "[build-promtool] $*" >&2; }

# The module's version (v0.316.0) and the Prometheus release it is (3.16.0): promtool --version prints the latter.
module_version="$(awk -v m="${MODULE}" '$1 == m && $0 !~ /=>/ { print $2; exit }' "${WRAPPER}/go.mod")"
[[ -n "${module_version}" ]] || { log "cannot read the version of ${MODULE} from ${WRAPPER}/go.mod"; exit 1; }
if [[ "${module_version}" =~ ^v0\.([0-9]+)\.([0-9]+)$ ]]; then
  major_minor="${BASH_REMATCH[1]}"
  release="$(( major_minor / 100 )).$(( major_minor % 100 )).${BASH_REMATCH[2]}"
else
  log "unexpected module version ${module_version}"; exit 1
fi

reports_version() {
  [[ -x "${BIN}" ]] && "${BIN}" --version 2>&1 | head -1 | grep -q "^promtool, version ${release} "
}

if [[ "${MODE}" == check ]]; then
  if reports_version; then
    log "ok      promtool ${release} (${module_version})"
    exit 0
  fi
  log "MISSING or BAD ${BIN} (want ${release}); run hack/build-promtool.sh"
  exit 1
fi

recorded="$( [[ -f "${VERSIONS_FILE}" ]] && awk '$1 == "promtool" { print $2 }' "${VERSIONS_FILE}" || true)"
if [[ "${FORCE}" == 0 && "${recorded}" == "${module_version}" ]] && reports_version; then
  log "promtool ${module_version}: up to date, skipping"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
mkdir -p "${BIN_DIR}"
export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
log "promtool ${module_version} (Prometheus ${release}): building with $(go env GOVERSION) ..."
start=${SECONDS}
tmp="${BIN_DIR}/.promtool.tmp.$$"
if ! (cd "${WRAPPER}" && go build -tags remove_all_sd -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${release}" \
    -o "${tmp}" "${MODULE}/cmd/promtool"); then
  rm -f "${tmp}"
  log "BUILD FAILED after $(( SECONDS - start ))s"
  exit 1
fi
mv -f "${tmp}" "${BIN}"
secs=$(( SECONDS - start ))
reports_version || { log "built, but it does not report ${release}: $("${BIN}" --version 2>&1 | head -1)"; exit 1; }
vtmp="${VERSIONS_FILE}.tmp.$$"
{ [[ -f "${VERSIONS_FILE}" ]] && awk '$1 != "promtool"' "${VERSIONS_FILE}"; \
  echo "promtool ${module_version} $(go env GOVERSION) ${secs}"; } | sort > "${vtmp}"
mv -f "${vtmp}" "${VERSIONS_FILE}"
log "promtool ${module_version}: built in ${secs}s"
