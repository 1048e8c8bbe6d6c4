#!/usr/bin/env bash
# Benchmark of nixek-builder's upload path (the same code `build` runs, through the hidden `upload` command):
# a SPARSE disk image streamed into s3proxy (a separate process, filesystem store), compared with copying the
# same file into s3proxy's store directory. Prints a table; numbers measured so far are in README.md.
#
#   bench/builder-upload/run.sh                      # 4 GiB, parts of 8/16/64 MiB, -Xmx128m, http and https
#   SIZE_GIB=1 PART_SIZES=16 MODES=http bench/builder-upload/run.sh
#
# Knobs (environment): SIZE_GIB (4), PART_SIZES ("8 16 64"), XMX (default: 128m, or 2 parts + 64m when that
# is more), MODES ("http https"),
# WORK (a new directory under /tmp; it needs SIZE_GIB of free space twice), KEEP=1 keeps WORK.
# Needs: java 17, mvn (for the jar and s3proxy's class path), /usr/bin/time, curl, keytool.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
size_gib=${SIZE_GIB:-4}
part_sizes=${PART_SIZES:-"8 16 64"}
# the heap the client gets: small, so that a leak or a whole-file buffer would fail, not hide
xmx_for() { if [ -n "${XMX:-}" ]; then echo "$XMX"; else echo "$(($1 * 2 + 64 > 128 ? $1 * 2 + 64 : 128))m"; fi; }
modes=${MODES:-"http https"}
work=${WORK:-$(mktemp -d /tmp/nixek-builder-bench.XXXXXX)}
jar=$root/operator/builder/target/nixek-builder.jar
mkdir -p "$work"

s3proxy_pid=
cleanup() {
  if [ -n "$s3proxy_pid" ]; then kill "$s3proxy_pid" 2>/dev/null || true; wait "$s3proxy_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

log() { echo "== $*" >&2; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mibps() { awk -v bytes="$1" -v s="$2" 'BEGIN { printf "%.0f", bytes / 1048576 / s }'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the jar and s3proxy's class path (the builder's test scope holds it, through nixek-fake-aws) ----------
if [ ! -f "$jar" ]; then
  log "building $jar"
  (cd "$root" && mvn -B -q -pl operator/builder package -DskipTests)
fi
(cd "$root" && mvn -B -q -o -pl operator/builder -am compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt" >/dev/null)

# --- the image: sparse, with a little data so its hash is not the hash of zeros ---------------------------
image=$work/image.raw
size=$((size_gib * 1024 * 1024 * 1024))
truncate -s "$size" "$image"
for offset_mib in 1 1000 2500; do
  if [ "$offset_mib" -lt $((size_gib * 1024)) ]; then
    head -c 1048576 /dev/urandom | dd of="$image" bs=1M seek="$offset_mib" conv=notrunc status=none
  fi
done
log "image: $(du -h --apparent-size "$image" | cut -f1) apparent, $(du -h "$image" | cut -f1) allocated"

# --- s3proxy: its own JVM, filesystem store, http and https (self-signed, trusted by the client only) ---------
store=$work/store
mkdir -p "$store/bench"
http_port=$(free_port)
https_port=$(free_port)
keytool -genkeypair -alias s3proxy -keyalg RSA -keysize 2048 -dname CN=127.0.0.1 -ext SAN=ip:127.0.0.1 \
  -validity 2 -storetype PKCS12 -keystore "$work/server.p12" -storepass benchpass -keypass benchpass 2>/dev/null
keytool -exportcert -alias s3proxy -keystore "$work/server.p12" -storepass benchpass -file "$work/server.der" 2>/dev/null
keytool -importcert -noprompt -alias s3proxy -file "$work/server.der" -storetype PKCS12 \
  -keystore "$work/trust.p12" -storepass benchpass >/dev/null 2>&1
cat >"$work/s3proxy.properties" <<EOF
s3proxy.endpoint=http://127.0.0.1:$http_port
s3proxy.secure-endpoint=https://127.0.0.1:$https_port
s3proxy.keystore-path=$work/server.p12
s3proxy.keystore-password=benchpass
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=bench
s3proxy.credential=bench-secret-key
jclouds.provider=filesystem
jclouds.identity=bench
jclouds.credential=bench-secret-key
jclouds.filesystem.basedir=$store
EOF
cat >"$work/logback-s3proxy.xml" <<'EOF'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
EOF
java -Xmx512m -Dlogback.configurationFile="$work/logback-s3proxy.xml" -cp "$(cat "$work/classpath.txt")" \
  org.gaul.s3proxy.Main --properties "$work/s3proxy.properties" >"$work/s3proxy.log" 2>&1 &
s3proxy_pid=$!
for _ in $(seq 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$http_port/"; then break; fi
  sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$http_port/" || { cat "$work/s3proxy.log"; echo "s3proxy did not start" >&2; exit 1; }
log "s3proxy (pid $s3proxy_pid) on http :$http_port and https :$https_port, store $store"

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_EC2_METADATA_DISABLED=true

# --- reference: sha256sum of the same file ---------------------------------------------------------------
t0=$(now); expected=$(sha256sum "$image" | cut -d' ' -f1); t1=$(now)
sha_ref_s=$(seconds "$t0" "$t1")
log "sha256sum: $expected in $sha_ref_s s"

results=$work/results.md
{
  echo "| what | part MiB | -Xmx | wall s (incl. sync) | MiB/s | peak RSS MiB | client CPU s | s3proxy CPU s | hash pass | upload pass |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
} >"$results"

# CPU seconds (user + system) the s3proxy process has used so far
s3proxy_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$s3proxy_pid/stat"; }

# one nixek-builder run: upload MODE PART_MIB XMX KEY LABEL
upload() {
  local mode=$1 part=$2 xmx=$3 key=$4 label=$5 endpoint tls=()
  if [ "$mode" = https ]; then
    endpoint=https://127.0.0.1:$https_port
    tls=(-Djavax.net.ssl.trustStore="$work/trust.p12" -Djavax.net.ssl.trustStorePassword=benchpass
         -Djavax.net.ssl.trustStoreType=PKCS12)
  else
    endpoint=http://127.0.0.1:$http_port
  fi
  local out
  out=$work/run-$mode-$part-$xmx-$(echo "$label" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-')
  sync
  local t0 t1 c0 c1 status=0
  c0=$(s3proxy_cpu)
  t0=$(now)
  /usr/bin/time -v -o "$out.time" java -Xmx"$xmx" "${tls[@]}" -jar "$jar" upload --file "$image" \
    --bucket bench --key "$key" --endpoint "$endpoint" --path-style --region us-east-1 \
    --part-size-mib "$part" --termination-log "$out.json" >"$out.log" 2>&1 || status=$?
  sync
  t1=$(now)
  c1=$(s3proxy_cpu)
  local wall rss cpu server hash up
  wall=$(seconds "$t0" "$t1")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out.time")
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$out.time")
  server=$(seconds "$c0" "$c1")
  hash=$(sed -n 's/.*sha256 [0-9a-f]* of .* in \(.*\)$/\1/p' "$out.log" | tail -1)
  up=$(sed -n 's/.*uploaded s3:.* in \(.*\)$/\1/p' "$out.log" | tail -1)
  if [ "$status" != 0 ]; then
    echo "| $label ($mode): exit $status, $(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' "$out.json" 2>/dev/null) | $part | $xmx | $wall | - | $rss | $cpu | $server | | |" >>"$results"
    log "$label $mode part=$part -Xmx$xmx: exit $status"
    return 0
  fi
  grep -q "\"sha256\":\"$expected\"" "$out.json" || { echo "sha256 mismatch in $out.json" >&2; exit 1; }
  [ -n "$up" ] || up="skipped (identical object)"
  echo "| $label ($mode) | $part | $xmx | $wall | $(mibps "$size" "$wall") | $rss | $cpu | $server | $hash | $up |" >>"$results"
  log "$label $mode part=$part -Xmx$xmx: ${wall}s, peak RSS ${rss} MiB"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in $modes; do
  for part in $part_sizes; do
    upload "$mode" "$part" "$(xmx_for "$part")" "p$part/image.raw" "nixek-builder upload"
    if [ "$mode" = "${modes%% *}" ] && [ "$part" = 16 ]; then
      upload "$mode" "$part" "$(xmx_for "$part")" "p$part/image.raw" "re-run, object exists"
    fi
    rm -rf "${store:?}/bench/p$part"
  done
done
# the heap guard: parts that cannot fit twice in the heap are refused at the start, not after an OOM
upload "${modes%% *}" 64 64m "guard/image.raw" "64 MiB parts in a 64 MiB heap"

# --- the floor: copying the same file into the store directory -------------------------------------------
copy() {
  local label=$1; shift
  sync
  local t0 t1
  t0=$(now)
  "$@"
  sync
  t1=$(now)
  local wall
  wall=$(seconds "$t0" "$t1")
  echo "| $label | - | - | $wall | $(mibps "$size" "$wall") | - | | | | |" >>"$results"
  rm -f "$store/bench/copy.raw"
}
copy "cp --sparse=never (writes every byte)" cp --sparse=never "$image" "$store/bench/copy.raw"
copy "cp (sparse-aware: skips holes)" cp "$image" "$store/bench/copy.raw"
echo "| sha256sum (read + hash only) | - | - | $sha_ref_s | $(mibps "$size" "$sha_ref_s") | - | | | | |" >>"$results"

echo
echo "nixek-builder upload benchmark: $size_gib GiB sparse file, $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$results"
