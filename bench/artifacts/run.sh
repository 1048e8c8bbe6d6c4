#!/usr/bin/env bash
# Benchmark of artifact uploads (docs/artifacts.md): the presigned path the agent takes (presign, PUT with
# java.net.http, then the report API's check: HEAD, read-back SHA-256, CopyObject) against the AWS SDK's own
# PutObject of the same file, both to one s3proxy (a separate JVM, filesystem store, 127.0.0.1). Prints a markdown
# table; numbers measured so far are in docs/artifacts.md.
#
#   bench/artifacts/run.sh
#   MB=50 ROUNDS=2 bench/artifacts/run.sh
#
# Knobs (environment): MB (200: the file), ROUNDS (3, after one warm-up), WORK (a new directory under /var/tmp),
# KEEP=1 keeps it.
# Needs: java 17, mvn (compiles operator/common when its classes are missing; s3proxy's class path), curl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
stores=s3
work=${WORK:-$(mktemp -d /var/tmp/nixek-artifact-bench.XXXXXX)}
mkdir -p "$work"
s3proxy_pid=
cleanup() {
  if [ -n "$s3proxy_pid" ]; then kill "$s3proxy_pid" 2>/dev/null || true; wait "$s3proxy_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
log() { echo "== $*" >&2; }

classes=$root/operator/common/target/classes
if [ ! -f "$classes/dev/nixek/ci/common/logs/S3ArtifactStore.class" ]; then
  log "compiling operator/common"
  (cd "$root" && mvn -B -q -o -pl operator/common -am compile)
fi
(cd "$root" && mvn -B -q -o -pl operator/common -am compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt" >/dev/null)
# our own modules from their target/ (the local repository may hold stale jars of them)
cp="$classes:$root/protocol/target/classes:$root/crds/target/classes:$(cat "$work/classpath.txt")"

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

mb=${MB:-200}
head -c "$((mb * 1000000))" /dev/urandom >"$work/file.bin"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.md
{
  echo "| round | MB | SDK PutObject s | SDK MB/s | presigned PUT s | PUT MB/s | SDK/PUT | check s | PUT+check MB/s | SDK/(PUT+check) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$results"
java -Xmx1g -Dlogback.configurationFile="$work/logback.xml" -cp "$cp" "$here/ArtifactBench.java" \
  "http://127.0.0.1:$port" "$work/file.bin" | tee -a "$results" >&2

echo
echo "artifact upload benchmark: $(nproc) cores, $(java -version 2>&1 | head -1), $(df -T "$work" | awk 'NR == 2 { print $2 }') under $work"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$results"
