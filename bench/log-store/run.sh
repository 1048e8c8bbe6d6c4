#!/usr/bin/env bash
# Benchmark of the step-log stores (dev.nixek.ci.common.logs): put throughput (16 KiB and 1 KiB chunks, 1 and 8
# writer threads, each thread its own step) and the time to seal a 50 MB log, for the local store (a directory on
# disk, every chunk fsynced) and the S3 store on s3proxy (a separate JVM, filesystem store, 127.0.0.1).
# Prints a markdown table; numbers measured so far are in README.md and docs/logs.md.
#
#   bench/log-store/run.sh
#   STORES=local PUT_MIB=16 SEAL_MB=20 bench/log-store/run.sh
#
# Knobs (environment): STORES ("local s3"), PUT_MIB (32: bytes per put row, capped by PUT_CHUNKS_MAX, 4000),
# SEAL_MB (50), WORK (a new directory under /var/tmp, on disk so that fsync costs what it costs), KEEP=1 keeps it.
# Needs: java 17, mvn (compiles operator/common when its classes are missing; s3proxy's class path), curl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stores=${STORES:-"local s3"}
work=${WORK:-$(mktemp -d /var/tmp/nixek-log-store-bench.XXXXXX)}
mkdir -p "$work"
s3proxy_pid=
cleanup() {
  if [ -n "$s3proxy_pid" ]; then kill "$s3proxy_pid" 2>/dev/null || true; wait "$s3proxy_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
log() { echo "== $*" >&2; }

classes=$root/operator/common/target/classes
if [ ! -f "$classes/dev/nixek/ci/common/logs/S3LogStore.class" ]; then
  log "compiling operator/common"
  (cd "$root" && mvn -B -q -o -pl operator/common -am compile)
fi
(cd "$root" && mvn -B -q -o -pl operator/common -am compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt" >/dev/null)
cp="$classes:$(cat "$work/classpath.txt")"

cat >"$work/logback.xml" <<'XML'
<configuration>
<appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
  <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>
</appender>
<root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
XML

if [[ " $stores " == *" s3 "* ]]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/s3/bench"
  cat >"$work/s3proxy.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=bench
s3proxy.credential=bench-secret-key
jclouds.provider=filesystem
jclouds.identity=bench
jclouds.credential=bench-secret-key
jclouds.filesystem.basedir=$work/s3
PROPS
  java -Xmx512m -Dlogback.configurationFile="$work/logback.xml" -cp "$cp" org.gaul.s3proxy.Main \
    --properties "$work/s3proxy.properties" >"$work/s3proxy.log" 2>&1 &
  s3proxy_pid=$!
  for _ in $(seq 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
    sleep 0.2
  done
  curl -s -o /dev/null "http://127.0.0.1:$port/" || { cat "$work/s3proxy.log"; echo "s3proxy did not start" >&2; exit 1; }
  log "s3proxy (pid $s3proxy_pid) on :$port, filesystem store $work/s3"
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.md
{
  echo "| store | what | chunk | threads | chunks | seconds | MB/s | chunks/s | client CPU s |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$results"
for store in $stores; do
  if [ "$store" = local ]; then where=$work/local; else where=http://127.0.0.1:$port; fi
  log "$store"
  java -Xmx1g -Dlogback.configurationFile="$work/logback.xml" -cp "$cp" "$here/LogStoreBench.java" "$store" "$where" \
    | tee -a "$results" >&2
done

echo
echo "log store benchmark: $(nproc) cores, $(java -version 2>&1 | head -1), $(df -T "$work" | awk 'NR == 2 { print $2 }') under $work"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$results"
