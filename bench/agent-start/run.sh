#!/usr/bin/env bash
# Agent start-up benchmark: process start → first step running, for the agent jar (`java -jar`, as the NixOS module
# runs it) with several JVM settings. The "first step" is `date +%s%N > mark`: the time it writes minus the time
# just before `java` was exec'd is the whole start-up (JVM, class loading, config read, the `started` report to a
# local acknowledging server, process spawn). Also the CPU time (user + system) of the whole run, which a loaded
# machine distorts less. Prints one line per variant; numbers so far are in README.md.
#
#   bench/agent-start/run.sh               # RUNS=15 per variant
#   RUNS=30 JAVA=/path/to/jdk/bin/java bench/agent-start/run.sh
#
# Knobs: RUNS (15), JAVA (java on PATH), VARIANTS (all of: default xshare-off tiered1 appcds appcds-tiered1; with
# JAVA a JDK 25 or later also aot and aot-tiered1, an AOT cache from a training run),
# WORK (a new directory under /tmp), KEEP=1, AGENT_JAR (default agent/target/nixek-agent.jar, built when missing:
# another build of the agent, to compare two).
# Needs: java 17, mvn, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
work=${WORK:-$(mktemp -d /tmp/nixek-agent-start.XXXXXX)}
mkdir -p "$work"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
java=${JAVA:-java}
runs=${RUNS:-15}
variants=${VARIANTS:-"default xshare-off tiered1 appcds appcds-tiered1"}

jar=${AGENT_JAR:-agent/target/nixek-agent.jar}
if [ ! -f "$jar" ]; then
  echo "== building $jar" >&2
  mvn -B -q -o -pl agent -am package -DskipTests
fi
# copy it where its path and mtime stay fixed, as in the Nix store (a CDS archive checks both)
cp "$jar" "$work/nixek-agent.jar"
jar=$work/nixek-agent.jar

# the report API stand-in: acknowledges every report at once
cat > "$work/ack.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/ack.py" > "$work/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
cat > "$work/config.json" <<JSON
{"version": "nixek.dev/agent-config/v1", "jobUid": "00000000-0000-0000-0000-000000000001", "namespace": "bench",
 "name": "start", "reportUrl": "http://127.0.0.1:$port", "token": "nxkjt_bench",
 "steps": [{"name": "first", "run": "date +%s%N > $work/mark"}], "poweroff": false}
JSON

run_agent() { # $@: JVM options; prints "ms-from-exec-to-first-step cpu-ms-of-the-whole-run"
  rm -f "$work/mark"; rm -rf "$work/w"; mkdir -p "$work/w"
  local t0 TIMEFORMAT='%3U %3S'
  t0=$(date +%s%N)
  { time "$java" "$@" -jar "$jar" --config "$work/config.json" --work-dir "$work/w" --drain-timeout-seconds 5 \
    >"$work/agent.log" 2>&1 || { echo "agent failed:" >&2; cat "$work/agent.log" >&2; exit 1; }; } 2>"$work/time"
  echo "$(( ($(cat "$work/mark") - t0) / 1000000 )) $(awk '{printf "%d", ($1 + $2) * 1000}' "$work/time")"
}

# AppCDS: a dynamic archive written at the end of a training run (what nix/packages/agent-jar.nix does at build time)
"$java" -XX:ArchiveClassesAtExit="$work/agent.jsa" -jar "$jar" --config "$work/config.json" --work-dir "$work/w" \
  --drain-timeout-seconds 5 >"$work/train.log" 2>&1
# JDK 25 and later: an AOT cache (classes loaded and linked, method profiles), written by a training run (JEP 514)
java_major=$("$java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
if [ "${java_major:-0}" -ge 25 ]; then
  rm -rf "$work/w"; mkdir -p "$work/w"
  "$java" -XX:AOTCacheOutput="$work/agent.aot" -jar "$jar" --config "$work/config.json" --work-dir "$work/w" \
    --drain-timeout-seconds 5 >"$work/train-aot.log" 2>&1
fi
echo "agent start-up: $(nproc) cores, $("$java" -version 2>&1 | head -1), RUNS=$runs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for v in $variants; do
  case $v in
    default) opts=() ;;
    xshare-off) opts=(-Xshare:off) ;;
    tiered1) opts=(-XX:TieredStopAtLevel=1) ;;
    appcds) opts=(-XX:SharedArchiveFile="$work/agent.jsa") ;;
    appcds-tiered1) opts=(-XX:SharedArchiveFile="$work/agent.jsa" -XX:TieredStopAtLevel=1) ;;
    aot) opts=(-XX:AOTCache="$work/agent.aot") ;;
    aot-tiered1) opts=(-XX:AOTCache="$work/agent.aot" -XX:TieredStopAtLevel=1) ;;
    *) echo "unknown variant $v" >&2; exit 64 ;;
  esac
  run_agent "${opts[@]}" >/dev/null # warm the page cache
  : >"$work/runs"
  for _ in $(seq "$runs"); do run_agent "${opts[@]}" >>"$work/runs"; done
  wall=$(cut -d' ' -f1 "$work/runs" | sort -n)
  cpu=$(cut -d' ' -f2 "$work/runs" | sort -n)
  mid=$(( (runs + 1) / 2 ))
  printf '%-15s to first step: p50 %5d ms, min %5d ms, max %5d ms; CPU of the run: p50 %5d ms   (%s)\n' "$v" \
    "$(sed -n "${mid}p" <<<"$wall")" "$(head -1 <<<"$wall")" "$(tail -1 <<<"$wall")" "$(sed -n "${mid}p" <<<"$cpu")" \
    "${opts[*]:-no options}"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
