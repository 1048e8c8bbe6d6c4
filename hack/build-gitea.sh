#!/usr/bin/env bash
# Builds Gitea -- the real forge the repository, webhook and commit-status tests push to -- from the Go module proxy.
#
#   hack/build-gitea.sh            build it unless present at the pinned version
#   hack/build-gitea.sh --force    rebuild
#   hack/build-gitea.sh --check    only verify it exists, is the pinned version and runs; no build
#
# Output: ${NIXEK_BIN_CACHE:-<repo>/.cache/bin}/gitea and gitea-assets/ (its templates, options and public folders:
# a build without the bindata tag reads them from disk, and the tests point STATIC_ROOT_PATH there), with a line
# "gitea <version> <go version> <seconds>" in VERSIONS beside it (as hack/build-test-binaries.sh keeps).
#
# Not a wrapper module like hack/promtool/: Gitea's go.mod declares the path gitea.dev (it is served as
# code.gitea.io/gitea) and carries replace lines, which only count in the main module. So the module itself is
# downloaded (its zip checked against the pinned sum below as well as the checksum database) and built as the main
# module with its own go.mod/go.sum, -mod=readonly. Only the main package; CGO off: SQLite is modernc's pure-Go
# driver, Gitea's default, so no sqlite tags are needed. A cold build (empty GOCACHE and module cache) takes about
# 14 minutes on 2 shared cores (docs/testing.md).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
BIN_DIR="${NIXEK_BIN_CACHE:-${REPO_ROOT}/.cache/bin}"
VERSIONS_FILE="${BIN_DIR}/VERSIONS"
BIN="${BIN_DIR}/gitea"
ASSETS="${BIN_DIR}/gitea-assets"
MODULE=code.gitea.io/gitea
VERSION=v1.27.3
# go mod download's "Sum" of ${MODULE}@${VERSION}: a different zip under the same version is refused
SUM='h1:SRnjvw24ASELKCqyYvAWIlzwOqyFMgfD+UkqQ9SE5eU='

MODE=build
FORCE=0
for arg in "$@"; do
  case "${arg}" in
    --check) MODE=check ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: ${arg}" >&2; exit 2 ;;
  esac
done

log() { echo "[build-gitea] $*" >&2; }

release="${VERSION#v}"
reports_version() {
  [[ -x "${BIN}" && -d "${ASSETS}/options/locale" ]] \
    && "${BIN}" --version 2>&1 | head -1 | grep -qi "^gitea version ${release} "
}

if [[ "${MODE}" == check ]]; then
  if reports_version; then
    log "ok      gitea ${release}"
    exit 0
  fi
  log "MISSING or BAD ${BIN} (or ${ASSETS}) (want ${release}); run hack/build-gitea.sh"
  exit 1
fi

recorded="$( [[ -f "${VERSIONS_FILE}" ]] && awk '$1 == "gitea" { print $2 }' "${VERSIONS_FILE}" || true)"
if [[ "${FORCE}" == 0 && "${recorded}" == "${VERSION}" ]] && reports_version; then
  log "gitea ${VERSION}: up to date, skipping"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
command -v git >/dev/null || { log "git is not on PATH (Gitea runs it)"; exit 1; }
mkdir -p "${BIN_DIR}"
export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
start=${SECONDS}
info="$(cd "${BIN_DIR}" && go mod download -json "${MODULE}@${VERSION}")" || {
  log "cannot download ${MODULE}@${VERSION}: ${info}"; exit 1; }
dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"${info}")"
sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"${info}")"
if [[ "${sum}" != "${SUM}" ]]; then
  log "${MODULE}@${VERSION} has sum '${sum}', pinned ${SUM}: refusing to build it"
  exit 1
fi
[[ -f "${dir}/go.mod" && -f "${dir}/main.go" ]] || { log "no Gitea module at '${dir}'"; exit 1; }
log "gitea ${VERSION}: building with $(go env GOVERSION) in ${dir} ..."
tmp="${BIN_DIR}/.gitea.tmp.$$"
if ! (cd "${dir}" && go build -trimpath -ldflags "-s -w -X main.Version=${release}" -o "${tmp}" .); then
  rm -f "${tmp}"
  log "BUILD FAILED after $(( SECONDS - start ))s"
  exit 1
fi
mv -f "${tmp}" "${BIN}"
rm -rf "${ASSETS}.tmp.$$"
mkdir -p "${ASSETS}.tmp.$$"
cp -R "${dir}/options" "${dir}/templates" "${dir}/public" "${ASSETS}.tmp.$$/"
# the module cache is read-only; the copy need not be
chmod -R u+w "${ASSETS}.tmp.$$"
rm -rf "${ASSETS}"
mv "${ASSETS}.tmp.$$" "${ASSETS}"
secs=$(( SECONDS - start ))
reports_version || { log "built, but it does not report ${release}: $("${BIN}" --version 2>&1 | head -1)"; exit 1; }
vtmp="${VERSIONS_FILE}.tmp.$$"
{ [[ -f "${VERSIONS_FILE}" ]] && awk '$1 != "gitea"' "${VERSIONS_FILE}"; \
  echo "gitea ${VERSION} $(go env GOVERSION) ${secs}"; } | sort > "${vtmp}"
mv -f "${vtmp}" "${VERSIONS_FILE}"
log "gitea ${VERSION}: built in ${secs}s"
