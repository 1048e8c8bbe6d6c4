#!/usr/bin/env bash
# Starts a throw-away etcd + kube-apiserver pair on 127.0.0.1 (free random
# ports), in the background, for integration tests. Usage:
#
#   hack/start-test-apiserver.sh <workdir>
#   hack/start-test-apiserver.sh --stop <workdir>   stop a pair started earlier
#
# Writes into <workdir>:
#   kubeconfig      admin (system:masters) token user, insecure-skip-tls-verify
#   etcd.pid, apiserver.pid
#   token           the static admin bearer token
#   env             SERVER_URL=..., ETCD_URL=..., TOKEN=..., STARTUP_SECONDS=...
#   etcd.log, apiserver.log, etcd-data/, certs/, sa.key, sa.pub, tokens.csv
# and prints the server URL (https://127.0.0.1:<port>) on stdout once /readyz is ok.
# Stop with --stop: kube-apiserver FIRST (SIGTERM, SIGKILL after 15s), then etcd.
# Killing etcd first (or both at once) leaves kube-apiserver hanging in its
# graceful shutdown forever, retrying etcd.
#
# Binaries come from ${NIXEK_BIN_CACHE:-<repo>/.cache/bin} (hack/build-test-binaries.sh).
# There is no controller-manager: namespaces never finish deleting, ownerReference
# garbage collection does not happen, no default ServiceAccount is created (hence
# the ServiceAccount admission plugin is disabled) and no pod is ever scheduled/run.
# Java test code mirrors the flags below; keep them in sync with hack/k8s-bins/README.md.
set -euo pipefail

usage() { echo "usage: $0 [--stop] <workdir>" >&2; exit 2; }
STOP=0
if [[ $# -eq 2 && "$1" == --stop ]]; then STOP=1; shift; fi
[[ $# -eq 1 && "$1" != -* ]] || usage

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"
BIN_DIR="${NIXEK_BIN_CACHE:-${REPO_ROOT}/.cache/bin}"
ETCD_READY_TIMEOUT="${ETCD_READY_TIMEOUT:-60}"
APISERVER_READY_TIMEOUT="${APISERVER_READY_TIMEOUT:-180}"

if [[ "${STOP}" == 1 ]]; then
  [[ -d "$1" ]] || { echo "no such workdir: $1" >&2; exit 1; }
else
  mkdir -p "$1"
fi
W="$(cd "$1" && pwd)"

log() { echo "[start-test-apiserver] $*" >&2; }

# SIGTERM, wait up to $2 seconds, then SIGKILL.
stop_pid() {
  local pid="$1" wait_s="$2" i
  kill -0 "${pid}" 2>/dev/null || return 0
  kill "${pid}" 2>/dev/null || true
  for (( i = 0; i < wait_s * 10; i++ )); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid ${pid} ignored SIGTERM for ${wait_s}s; SIGKILL"
  kill -9 "${pid}" 2>/dev/null || true
}

if [[ "${STOP}" == 1 ]]; then
  for f in apiserver etcd; do   # order matters: apiserver before etcd
    if [[ -f "${W}/${f}.pid" ]]; then
      pid="$(cat "${W}/${f}.pid")"
      # guard against a recycled pid: only stop our own binary
      if [[ "$(ps -p "${pid}" -o comm= 2>/dev/null || true)" == "${f/apiserver/kube-apiserver}" ]]; then
        stop_pid "${pid}" 15
      fi
      rm -f "${W}/${f}.pid"
    fi
  done
  log "stopped"
  exit 0
fi

for b in etcd kube-apiserver; do
  [[ -x "${BIN_DIR}/${b}" ]] || { log "${BIN_DIR}/${b} missing; run hack/build-test-binaries.sh"; exit 1; }
done

# A free TCP port on 127.0.0.1 (the kernel picks it; a small race is possible).
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    local p
    while :; do
      p=$(( 20000 + RANDOM % 30000 ))
      (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null || { echo "${p}"; return; }
    done
  fi
}

ETCD_CLIENT_PORT="$(free_port)"
ETCD_PEER_PORT="$(free_port)"
while [[ "${ETCD_PEER_PORT}" == "${ETCD_CLIENT_PORT}" ]]; do ETCD_PEER_PORT="$(free_port)"; done
API_PORT="$(free_port)"
while [[ "${API_PORT}" == "${ETCD_CLIENT_PORT}" || "${API_PORT}" == "${ETCD_PEER_PORT}" ]]; do API_PORT="$(free_port)"; done
ETCD_URL="http://127.0.0.1:${ETCD_CLIENT_PORT}"
SERVER_URL="https://127.0.0.1:${API_PORT}"

pids=()
cleanup_on_error() {
  local rc=$?
  if (( rc != 0 )); then
    local i
    for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do stop_pid "${pids[i]}" 15; done
    for f in etcd.log apiserver.log; do
      [[ -f "${W}/${f}" ]] && { log "---- last lines of ${W}/${f}"; tail -n 30 "${W}/${f}" >&2; }
    done
  fi
}
trap cleanup_on_error EXIT

# Detach the servers from this script: own session, no inherited stdin/stdout,
# so a caller that waits for our stdout to close (e.g. a Java ProcessBuilder) is
# not blocked by them.
run_bg() {
  local logfile="$1"; shift
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" </dev/null >"${logfile}" 2>&1 &
  else
    nohup "$@" </dev/null >"${logfile}" 2>&1 &
  fi
}

# ---- etcd ------------------------------------------------------------------
run_bg "${W}/etcd.log" "${BIN_DIR}/etcd" \
  --name=test \
  --data-dir="${W}/etcd-data" \
  --listen-client-urls="${ETCD_URL}" \
  --advertise-client-urls="${ETCD_URL}" \
  --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
  --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
  --initial-cluster="test=http://127.0.0.1:${ETCD_PEER_PORT}" \
  --unsafe-no-fsync=true \
  --log-level=warn
ETCD_PID=$!
pids+=("${ETCD_PID}")
echo "${ETCD_PID}" > "${W}/etcd.pid"

deadline=$(( SECONDS + ETCD_READY_TIMEOUT ))
until curl -sf "${ETCD_URL}/health" 2>/dev/null | grep -q '"health":"true"'; do
  kill -0 "${ETCD_PID}" 2>/dev/null || { log "etcd exited"; exit 1; }
  (( SECONDS < deadline )) || { log "etcd not healthy after ${ETCD_READY_TIMEOUT}s"; exit 1; }
  sleep 0.2
done
log "etcd ready at ${ETCD_URL} (pid ${ETCD_PID})"

# ---- credentials -----------------------------------------------------------
[[ -f "${W}/sa.key" ]] || openssl genrsa -out "${W}/sa.key" 2048 2>/dev/null
openssl rsa -in "${W}/sa.key" -pubout -out "${W}/sa.pub" 2>/dev/null
if [[ ! -f "${W}/token" ]]; then
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "${W}/token"
fi
TOKEN="$(cat "${W}/token")"
# token,user,uid,"group1,group2"
echo "${TOKEN},admin,admin,\"system:masters\"" > "${W}/tokens.csv"
mkdir -p "${W}/certs"

# ---- kube-apiserver ----------------------------------------------------------
start_ns=$(date +%s%N)
run_bg "${W}/apiserver.log" "${BIN_DIR}/kube-apiserver" \
  --etcd-servers="${ETCD_URL}" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="${API_PORT}" \
  --cert-dir="${W}/certs" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="${W}/sa.pub" \
  --service-account-signing-key-file="${W}/sa.key" \
  --token-auth-file="${W}/tokens.csv" \
  --authorization-mode=RBAC \
  --service-cluster-ip-range=10.0.0.0/24 \
  --disable-admission-plugins=ServiceAccount \
  --enable-priority-and-fairness=false \
  --endpoint-reconciler-type=none \
  --profiling=false
API_PID=$!
pids+=("${API_PID}")
echo "${API_PID}" > "${W}/apiserver.pid"

deadline=$(( SECONDS + APISERVER_READY_TIMEOUT ))
until [[ "$(curl -sk -m 5 -H "Authorization: Bearer ${TOKEN}" "${SERVER_URL}/readyz" 2>/dev/null)" == ok ]]; do
  kill -0 "${API_PID}" 2>/dev/null || { log "kube-apiserver exited"; exit 1; }
  (( SECONDS < deadline )) || { log "kube-apiserver not ready after ${APISERVER_READY_TIMEOUT}s"; exit 1; }
  sleep 0.2
done
STARTUP_SECONDS="$(awk -v a="${start_ns}" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"

cat > "${W}/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${SERVER_URL}
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: ${TOKEN}
contexts:
- name: test
  context:
    cluster: test
    user: admin
    namespace: default
current-context: test
EOF
cat > "${W}/env" <<EOF
SERVER_URL=${SERVER_URL}
ETCD_URL=${ETCD_URL}
TOKEN=${TOKEN}
STARTUP_SECONDS=${STARTUP_SECONDS}
EOF

log "kube-apiserver ready at ${SERVER_URL} (pid ${API_PID}) in ${STARTUP_SECONDS}s; kubeconfig: ${W}/kubeconfig"
echo "${SERVER_URL}"
