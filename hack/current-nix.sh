#!/usr/bin/env bash
# Installs the image's Nix (Debian trixie's nix-bin, pinned in hack/nix-version) for the tests, without touching the
# host's packages, and prints the bin dir to put first on PATH:
#
#   PATH="$(hack/current-nix.sh):$PATH"
#   hack/current-nix.sh --check     only verify the install exists and is the pinned version; no download
#
# How: a private apt (its own sources.list, lists and cache) downloads nix-bin and the libraries it links, dpkg -x
# unpacks them under ${NIXEK_NIX_CACHE:-<repo>/.cache/nix}, and patchelf (trixie's, run by trixie's loader) points the
# nix binary at that loader and those libraries. The result runs directly on the host, so it sees the host's files and
# /nix, and /proc/self/exe (which nix re-executes) is the patched binary itself; nix-instantiate, nix-build, ... are
# symlinks to the multicall
# binary in a bin dir of their own. Idempotent: a present install of the pinned version is reused (cold 8-30 s, warm
# ~0.05 s). Needs apt-get and dpkg-deb (a Debian or Ubuntu host) and the Debian archive keyring; writes no system path.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
# shellcheck source=hack/nix-version
. "${HACK_DIR}/nix-version"
CACHE="${NIXEK_NIX_CACHE:-${REPO_ROOT}/.cache/nix}"
INSTALL="${CACHE}/${NIX_DEB_VERSION}"
# only nix and its argv[0] names: the rest of the unpacked root (patchelf, ...) stays off PATH
BIN="${INSTALL}/bin"
MIRROR="${NIXEK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { echo "[current-nix] $*" >&2; }

# "" when ${BIN}/nix runs and is the pinned version, else what is wrong.
problem() {
  local out
  [ -x "${BIN}/nix" ] || { echo "${BIN}/nix is missing"; return; }
  out="$("${BIN}/nix" --version 2>&1)" || { echo "${BIN}/nix --version failed: ${out}"; return; }
  [ "${out}" = "nix (Nix) ${NIX_VERSION}" ] || echo "${BIN}/nix is '${out}', not ${NIX_VERSION}"
}

case "${1:-}" in
  --check)
    p="$(problem)"
    [ -z "${p}" ] || { log "${p} (run hack/current-nix.sh)"; exit 1; }
    echo "${BIN}"; exit 0 ;;
  "") ;;
  -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "unknown argument: $1" >&2; exit 2 ;;
esac

if [ -z "$(problem)" ]; then
  echo "${BIN}"
  exit 0
fi

# the unpacked loader and library paths below are amd64's
[ "$(uname -m)" = x86_64 ] || { log "only x86_64 hosts are supported (this is $(uname -m))"; exit 1; }
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || { log "needs apt-get and dpkg-deb (a Debian or Ubuntu host)"; exit 1; }
[ -r "${KEYRING}" ] || { log "needs ${KEYRING} (Debian's debian-archive-keyring package)"; exit 1; }

log "installing nix ${NIX_VERSION} (Debian ${NIX_DEB_SUITE} nix-bin ${NIX_DEB_VERSION}) into ${INSTALL}"
started=${SECONDS}
work="${CACHE}/.work"
rm -rf "${work}" "${INSTALL}"
mkdir -p "${work}/apt/lists/partial" "${work}/apt/archives/partial" "${INSTALL}"
# target=Packages: only the package index (not the AppStream metadata a host may configure)
echo "deb [signed-by=${KEYRING} target=Packages] ${MIRROR} ${NIX_DEB_SUITE} main" >"${work}/apt/sources.list"
: >"${work}/apt/status"
apt_opts=(
  -o "Dir::Etc::sourcelist=${work}/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
  -o "Dir::State::Lists=${work}/apt/lists" -o "Dir::Cache=${work}/apt" -o "Dir::Cache::archives=${work}/apt/archives"
  -o "Dir::State::status=${work}/apt/status" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
  -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -q
)
apt-get "${apt_opts[@]}" update >/dev/null
# nix-bin itself, patchelf, and the libraries nix-bin declares (not its perl and shell tool dependencies: the tests
# call the nix binary only); apt resolves their dependency closure against an empty package database.
(cd "${work}/apt/archives" && apt-get "${apt_opts[@]}" download "nix-bin=${NIX_DEB_VERSION}" >/dev/null) \
  || { log "cannot download nix-bin ${NIX_DEB_VERSION} from Debian ${NIX_DEB_SUITE} (${MIRROR}): offline, or Debian"\
    "no longer serves that version (then update hack/nix-version)"; exit 1; }
libs=$(dpkg-deb -f "${work}"/apt/archives/nix-bin_*.deb Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' \
  | grep '^lib' | grep -v perl)
# shellcheck disable=SC2086 # one package per word
apt-get "${apt_opts[@]}" install --download-only --no-install-recommends -y patchelf ${libs} >/dev/null
for deb in "${work}"/apt/archives/*.deb; do
  dpkg-deb -x "${deb}" "${INSTALL}/root"
done

libdir="${INSTALL}/root/usr/lib/x86_64-linux-gnu"
loader="${libdir}/ld-linux-x86-64.so.2"
# --force-rpath: DT_RPATH (not RUNPATH) of the executable also serves its libraries' own dependencies
"${loader}" --library-path "${libdir}" "${INSTALL}/root/usr/bin/patchelf" \
  --set-interpreter "${loader}" --force-rpath --set-rpath "${libdir}" "${INSTALL}/root/usr/bin/nix"
mkdir -p "${BIN}"
for name in "${INSTALL}"/root/usr/bin/nix*; do
  ln -s "../root/usr/bin/nix" "${BIN}/$(basename "${name}")"
done
# every library must come from the install, none from the host
if unresolved="$("${loader}" --list "${INSTALL}/root/usr/bin/nix" | grep -v -e "${INSTALL}/" -e linux-vdso)"; then
  log "libraries not in the install: ${unresolved}"; exit 1
fi
rm -rf "${work}"

p="$(problem)"
[ -z "${p}" ] || { log "${p}"; exit 1; }
log "nix ${NIX_VERSION} ready in $((SECONDS - started)) s: ${BIN}"
echo "${BIN}"
