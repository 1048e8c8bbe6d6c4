#!/usr/bin/env bash
# Builds the real binaries the integration tests run against -- kube-apiserver,
# etcd and helm -- from the Go module proxy, using the wrapper modules in
# hack/k8s-bins/<name>/ (go.mod + go.sum pin every dependency).
#
#   hack/build-test-binaries.sh            build what is missing or out of date
#   hack/build-test-binaries.sh --force    rebuild all three
#   hack/build-test-binaries.sh --check    only verify all three exist, are the
#                                          pinned versions and run; no build
#
# Output goes to ${NIXEK_BIN_CACHE:-<repo>/.cache/bin}. <bin dir>/VERSIONS holds
# one line per binary: "<name> <version> <go version> <build seconds>". A binary
# whose file exists and whose VERSIONS line has the pinned version is reused.
# GOCACHE / GOMODCACHE are the go defaults (or whatever the environment says), so
# later builds are incremental. A cold kube-apiserver build takes ~10+ minutes
# on 2 cores; see hack/k8s-bins/README.md.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
WRAPPERS="${HACK_DIR}/k8s-bins"
BIN_DIR="${NIXEK_BIN_CACHE:-${REPO_ROOT}/.cache/bin}"
VERSIONS_FILE="${BIN_DIR}/VERSIONS"
NAMES=(etcd kube-apiserver helm)

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

log() { echo "[build-test-binaries] $*" >&2; }

# Version of module $2 required by the wrapper go.mod $1 (a require line, not a replace).
required_version() {
  awk -v m="$2" '$0 !~ /=>/ && ($1 == m || ($1 == "require" && $2 == m)) {
      for (i = 1; i <= NF; i++) if ($i == m) { print $(i + 1); exit } }' "$1"
}

wrapper_dir() {
  case "$1" in
    kube-apiserver) echo "${WRAPPERS}/apiserver" ;;
    etcd) echo "${WRAPPERS}/etcd" ;;
    helm) echo "${WRAPPERS}/helm" ;;
  esac
}

# The pinned version of each binary, read from its wrapper go.mod.
pinned_version() {
  case "$1" in
    kube-apiserver) required_version "${WRAPPERS}/apiserver/go.mod" k8s.io/kubernetes ;;
    etcd) required_version "${WRAPPERS}/etcd/go.mod" go.etcd.io/etcd/server/v3 ;;
    helm) required_version "${WRAPPERS}/helm/go.mod" helm.sh/helm/v3 ;;
  esac
}

# Go package (inside the wrapper's dependencies) that is the binary's main.
main_package() {
  case "$1" in
    kube-apiserver) echo k8s.io/kubernetes/cmd/kube-apiserver ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;   # its main.go calls etcdmain.Main(os.Args)
    helm) echo helm.sh/helm/v3/cmd/helm ;;
  esac
}

# -X flags so the binary reports its real version.
version_ldflags() {
  local name="$1" version="$2" major minor
  case "${name}" in
    kube-apiserver)
      major="${version#v}"; major="${major%%.*}"
      minor="${version#v*.}"; minor="${minor%%.*}"
      local pkg
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf ' -X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean' \
          "${pkg}" "${version}" "${pkg}" "${major}" "${pkg}" "${minor}" "${pkg}"
      done
      ;;
    helm)
      printf ' -X helm.sh/helm/v3/internal/version.version=%s -X helm.sh/helm/v3/internal/version.metadata= -X helm.sh/helm/v3/internal/version.gitTreeState=clean' "${version}"
      # helm's Makefile also stamps the Kubernetes version it was built against
      # (client-go v0.X.Y -> 1.X) as the default for `helm template` / lint.
      local cg
      cg="$(required_version "${WRAPPERS}/helm/go.mod" k8s.io/client-go)"
      if [[ "${cg}" =~ ^v0\.([0-9]+)\. ]]; then
        local p
        for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
          printf ' -X %s.k8sVersionMajor=1 -X %s.k8sVersionMinor=%s' "${p}" "${p}" "${BASH_REMATCH[1]}"
        done
      fi
      ;;
    etcd) ;;  # etcd's version is a constant in go.etcd.io/etcd/api/v3/version
  esac
}

# Prints the binary's own version output (first lines); fails if it does not run.
run_version() {
  local name="$1" bin="${BIN_DIR}/$1"
  case "${name}" in
    helm) "${bin}" version --short 2>&1 ;;
    *) "${bin}" --version 2>&1 ;;
  esac
}

# The version as the binary itself reports it must contain the pinned version.
reports_version() {
  local name="$1" version="$2" out
  out="$(run_version "${name}")" || return 1
  case "${name}" in
    etcd) grep -q "etcd Version: ${version#v}\$" <<<"${out}" ;;
    kube-apiserver) grep -q "^Kubernetes ${version}\$" <<<"${out}" ;;
    helm) grep -q "^${version}\(+g[0-9a-f]*\)\{0,1\}\$" <<<"${out}" ;;
  esac
}

recorded_version() {
  [[ -f "${VERSIONS_FILE}" ]] || return 0
  awk -v n="$1" '$1 == n { print $2 }' "${VERSIONS_FILE}"
}

# Replaces (or adds) the VERSIONS line of binary $1.
record_version() {
  local tmp="${VERSIONS_FILE}.tmp.$$"
  { [[ -f "${VERSIONS_FILE}" ]] && awk -v n="$1" '$1 != n' "${VERSIONS_FILE}"; echo "$1 $2 $3 $4"; } \
    | sort > "${tmp}"
  mv -f "${tmp}" "${VERSIONS_FILE}"
}

check_all() {
  local failed=0 name version
  for name in "${NAMES[@]}"; do
    version="$(pinned_version "${name}")"
    if [[ ! -x "${BIN_DIR}/${name}" ]]; then
      log "MISSING ${BIN_DIR}/${name} (want ${version}); run hack/build-test-binaries.sh"
      failed=1
    elif ! reports_version "${name}" "${version}"; then
      log "BAD     ${name}: does not run or is not ${version}: $(run_version "${name}" | head -1 || true)"
      failed=1
    else
      log "ok      ${name} ${version} ($(run_version "${name}" | head -1))"
    fi
  done
  return "${failed}"
}

if [[ "${MODE}" == check ]]; then
  check_all
  exit $?
fi

command -v go >/dev/null || { log "go is not on PATH (Go >= 1.26 needed)"; exit 1; }
mkdir -p "${BIN_DIR}"

# -mod=readonly: the committed go.sum files are the complete truth; a build never
# edits them. GOWORK=off: never pick up a go.work from an enclosing folder.
export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false"
GO_VERSION="$(go env GOVERSION)"

failures=()
summary=()
total_start=${SECONDS}
for name in "${NAMES[@]}"; do
  version="$(pinned_version "${name}")"
  if [[ -z "${version}" ]]; then
    log "${name}: cannot read pinned version from $(wrapper_dir "${name}")/go.mod"
    failures+=("${name}"); continue
  fi
  if [[ "${FORCE}" == 0 && -x "${BIN_DIR}/${name}" && "$(recorded_version "${name}")" == "${version}" ]]; then
    log "${name} ${version}: up to date, skipping"
    summary+=("${name} ${version}: cached")
    continue
  fi
  log "${name} ${version}: building with ${GO_VERSION} ..."
  start=${SECONDS}
  tmp_out="${BIN_DIR}/.${name}.tmp.$$"
  if (cd "$(wrapper_dir "${name}")" && \
      go build -trimpath -ldflags "-s -w$(version_ldflags "${name}" "${version}")" \
        -o "${tmp_out}" "$(main_package "${name}")"); then
    mv -f "${tmp_out}" "${BIN_DIR}/${name}"
    secs=$(( SECONDS - start ))
    if reports_version "${name}" "${version}"; then
      record_version "${name}" "${version}" "${GO_VERSION}" "${secs}"
      log "${name} ${version}: built in ${secs}s"
      summary+=("${name} ${version}: built in ${secs}s")
    else
      log "${name}: built, but it does not report ${version}: $(run_version "${name}" | head -1 || true)"
      failures+=("${name}")
    fi
  else
    rm -f "${tmp_out}"
    log "${name} ${version}: BUILD FAILED after $(( SECONDS - start ))s"
    failures+=("${name}")
  fi
done

log "---- summary (total $(( SECONDS - total_start ))s, binaries in ${BIN_DIR})"
for line in "${summary[@]}"; do log "  ${line}"; done
if (( ${#failures[@]} > 0 )); then
  log "FAILED: ${failures[*]}"
  exit 1
fi
