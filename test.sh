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
if [ "$(nix --version)" != "nix (Nix) ${NIX_VERSION}" ] || [ "$(command -v nix-instantiate)" != "${nix_bin}/nix-instantiate" ]; then
  log "nix on PATH is $(command -v nix) '$(nix --version 2>&1)', not ${nix_bin}: nix ${NIX_VERSION}"
  exit 1
fi

# moto, a third-party EC2 emulator the fake EC2 is cross-checked against
if ! python3 -c 'import moto.server' 2>/dev/null; then
  log "installing moto[server]"
  python3 -m pip install -q 'moto[server]'
fi

# kube-apiserver, etcd and helm, built from the Go module proxy into .cache/bin (reused when present)
hack/build-test-binaries.sh
hack/build-test-binaries.sh --check
# kstatus's verdict (sigs.k8s.io/cli-utils), the health Flux and kpt compute: a small checker, same cache
hack/build-kstatus-check.sh
hack/build-kstatus-check.sh --check
# promtool (Prometheus's checker of the scraped /metrics), likewise from the Go module proxy
hack/build-promtool.sh
hack/build-promtool.sh --check
# Gitea, the real forge of the repository/webhook tests (one main package; the cold build is the largest here)
hack/build-gitea.sh
hack/build-gitea.sh --check

command -v kubectl >/dev/null || { log "kubectl is required on PATH"; exit 1; }

exec mvn -B verify "$@"
