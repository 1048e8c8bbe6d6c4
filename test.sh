#!/usr/bin/env bash
# README command 2: installs what the tests need (idempotent), then runs every test tier with Maven.
#
#   ./test.sh                 everything: unit, mock API server, real kube-apiserver, end to end, nix
#   ./test.sh -pl agent       extra arguments go to Maven
#
# Under CI=true a tier whose tool is missing fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")"

log() { echo "[test.sh] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: jq (nix tests), nftables (checks the agent module's IMDS guard), lua5.4 (runs the chart's Argo CD
# health checks). Not Debian's nix-bin: the tests use the image's Nix, below.
missing=()
command -v jq >/dev/null || missing+=(jq)
command -v nft >/dev/null || missing+=(nftables)
command -v lua5.4 >/dev/null || missing+=(lua5.4)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# The image's Nix (hack/nix-version: Debian trixie's nix-bin) under .cache/nix, first on PATH for every tier: Maven's
# test JVMs, the test kubelet's pods and nix/tests/run.sh. A host nix (e.g. bookworm's 2.8) is never called.
nix_bin="$(hack/current-nix.sh)"
export PATH="${nix_bin}:${PATH}"
. hack/nix-version
# One Nix configuration for every tier, whatever the machine: trixie's nix-bin is compiled with sandbox = true and
# build-users-group = nixbld, so as root on a machine with user namespaces it would sandbox every build (the
# stand-in derivations use the host's /usr/bin) and need nixbld build users, while in a container without them it
# falls back to building unsandboxed. The tests pin the latter, which is also what builder pods get in a cluster
# (docs/testing.md#nix); a test that wants the sandbox asks for it (--option sandbox true). Pods of the test kubelet
# get NIX_CONF_DIR as the nix.conf their image would bring.
export NIX_CONF_DIR="${PWD}/.cache/nix-conf"
mkdir -p "${NIX_CONF_DIR}"
printf '%s\n' '# written by test.sh' 'sandbox = false' 'build-users-group =' > "${NIX_CONF_DIR}/nix.conf"
if [ "$(nix --version)" != "nix (Nix) ${NIX_VERSION}" ] || [ "$(command -v nix-instantiate)" != "${nix_bin}/nix-instantiate" ]; then
  log "nix on PATH is $(command -v nix) '$(nix --version 2>&1)', not ${nix_bin}: nix ${NIX_VERSION}"
  exit 1
fi

# moto, a third-party EC2 emulator the fake EC2 is cross-checked against
if ! python3 -c 'import moto.server' 2>/dev/null; then
  log "installing moto[server]"
  python3 -m pip install -q 'moto[server]'
fi

command -v kubectl >/dev/null || { log "kubectl is required on PATH"; exit 1; }

# The Go tools (kube-apiserver, etcd, helm, kstatus-check, promtool, Gitea), built from the Go module proxy into .cache/bin
# and reused when present. Built in the background while Maven compiles and runs the tiers that need none: a test that
# needs a tool waits for the build (NIXEK_TOOLS_STATUS, read by TestBinaries) and fails under CI=true if it failed.
mkdir -p .cache
export NIXEK_TOOLS_STATUS="${PWD}/.cache/tools-build.status"
echo building > "${NIXEK_TOOLS_STATUS}"
tools_start=$(date +%s)
hack/build-tools.sh "${NIXEK_TOOLS_STATUS}" > .cache/tools-build.log 2>&1 &
tools_pid=$!
trap 'kill "${tools_pid}" 2>/dev/null || true' EXIT
log "building the Go tools in the background (log: .cache/tools-build.log)"

rc=0
mvn -B verify "$@" || rc=$?
tools_rc=0
wait "${tools_pid}" || tools_rc=$?
log "Go tools: $(cat "${NIXEK_TOOLS_STATUS}") (build script took at most $(( $(date +%s) - tools_start )) s)"
if [ "${tools_rc}" != 0 ]; then
  tail -n 30 .cache/tools-build.log >&2
  [ "${rc}" != 0 ] || rc="${tools_rc}"
fi
exit "${rc}"
