#!/usr/bin/env bash
# Times a job's evaluation as a local process (docs/evaluation.md, "Where pods cannot run") and the demo's wall time.
# Prints one line per measurement: what, runs, median and min seconds. Not a test: nothing in mvn runs it.
#
#   bench/local-evaluation/run.sh            # RUNS=5
#
# Needs: nix-instantiate (PATH), java 17, python3, git, and the built jars (mvn -B -DskipTests package -pl demo -am).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
RUNS=${RUNS:-5}
TMP=$(mktemp -d)
trap 'kill "${API_PID:-}" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for jar in operator/builder/target/nixek-builder.jar demo/target/nixek-demo.jar; do
  [ -f "$jar" ] || { echo "missing $jar: mvn -B -DskipTests package -pl demo -am" >&2; exit 64; }
done
NIXOPTS=(--extra-experimental-features 'nix-command flakes' --option substituters '')

# t NAME CMD...: runs CMD RUNS times (output discarded; a failing run aborts), prints median and min
t() {
  local name=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s.%N)
    "$@" >"$TMP/out" 2>&1 || { echo "FAILED: $name"; tail -5 "$TMP/out"; exit 1; }
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" -v r="$RUNS" \
    '{a[NR]=$1} END {printf "%-62s runs %d  median %6.2f s  min %6.2f s\n", n, r, a[int((NR+1)/2)], a[1]}'
}

# a flake job: the test fixture in a git repository, at a pinned revision (as spec.flake pins it)
mkdir -p "$TMP/flake" && cp nix/tests/fixtures/flake/flake.nix "$TMP/flake/"
git -C "$TMP/flake" init -q && git -C "$TMP/flake" add flake.nix
git -C "$TMP/flake" -c user.name=b -c user.email=b@b commit -qm fixture
FLAKE="git+file://$TMP/flake?rev=$(git -C "$TMP/flake" rev-parse HEAD)"
SEED=nix/tests/jobs/seed.nix
STUB=nix/tests/stub-nixpkgs

# a report API that accepts any evaluation (the builder posts before it exits 0)
cat >"$TMP/api.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        body = b'{"result":"applied"}'
        self.send_response(200); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H); print(s.server_port, flush=True); s.serve_forever()
PY
python3 "$TMP/api.py" >"$TMP/port" & API_PID=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
printf 'nxkev_%s' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$TMP/token" && chmod 0400 "$TMP/token"

evaluate() {
  NIX_CONFIG="substituters =" java -jar operator/builder/target/nixek-builder.jar evaluate --nix-dir "$ROOT/nix" --report-url "http://127.0.0.1:$PORT" \
    --job default/bench --token-file "$TMP/token" --termination-log "$TMP/termination-log" "$@"
}

echo "$(nix-instantiate --version), $(java -version 2>&1 | head -1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
t "nix-instantiate: seed job, --arg machine false" \
  nix-instantiate --eval --strict --json "${NIXOPTS[@]}" nix/eval.nix --argstr jobFile "$ROOT/$SEED" --arg machine false
t "nix-instantiate: seed job with its machine (stub nixpkgs)" \
  nix-instantiate --eval --strict --json "${NIXOPTS[@]}" nix/eval.nix --argstr jobFile "$ROOT/$SEED" --argstr nixpkgs "$ROOT/$STUB" \
  --argstr agentJar "$ROOT/agent/target/nixek-agent.jar"
t "nix-instantiate: flake job (git+file at a rev), --arg machine false" \
  nix-instantiate --eval --strict --json "${NIXOPTS[@]}" nix/eval.nix --argstr flake "$FLAKE" \
  --argstr attribute ci.jobs.hello-world --arg machine false
t "local process (builder evaluate + post): seed job, --no-machine" \
  evaluate --job-file "$ROOT/$SEED" --no-machine
t "local process (builder evaluate + post): flake job, --no-machine" \
  evaluate --flake "$FLAKE" --attribute ci.jobs.hello-world --no-machine
RUNS=$(( RUNS < 3 ? RUNS : 3 ))
t "demo wall time: examples/hello-nix-job.yaml (Succeeded)" java -Dnixek.home=. -jar demo/target/nixek-demo.jar \
  examples/hello-nix-job.yaml 180
demo_broken() {
  local rc=0
  java -Dnixek.home=. -jar demo/target/nixek-demo.jar examples/broken-nix-job.yaml 180 || rc=$?
  [ "$rc" -eq 1 ]
}
t "demo wall time: examples/broken-nix-job.yaml (EvaluationFailed, exit 1)" demo_broken
