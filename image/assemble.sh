#!/usr/bin/env bash
# Lays out the nixek-ci image's files under <root> from a Maven build of the repository: one runnable jar per command
# in /opt/nixek, the entrypoint that dispatches to them in /opt/nixek/bin, and in /opt/nixek/src the Nix library (nix/,
# without its tests). The Dockerfile runs exactly this, and
# ImageLayoutTest runs it and starts every command from the result, so the image and the test cannot differ.
#
#   mvn -B -DskipTests -pl "$(image/assemble.sh --modules)" -am package && image/assemble.sh <root>
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# command -> module and the jar its build makes (the shade plugin's finalName). One line per command.
commands=(
  "operator   operator/controller  nixek-operator.jar"
  "report-api operator/report-api  nixek-report-api.jar"
  "builder    operator/builder     nixek-builder.jar"
  "agent      agent                nixek-agent.jar"
)

if [ "${1:-}" = --modules ]; then
  for line in "${commands[@]}"; do
    read -r _ module _ <<<"$line"
    printf '%s\n' "$module"
  done | paste -sd, -
  exit 0
fi
root=${1:?usage: image/assemble.sh <root-dir> | --modules}

install -d "$root/opt/nixek/bin"
for line in "${commands[@]}"; do
  read -r command module jar <<<"$line"
  if [ ! -f "$repo/$module/target/$jar" ]; then
    echo "assemble.sh: $module/target/$jar is missing: build it first (mvn -pl $module -am package)" >&2
    exit 1
  fi
  # the entrypoint runs nixek-<command>.jar; the agent's is also the local provider's default agent command
  install -m 0644 "$repo/$module/target/$jar" "$root/opt/nixek/nixek-$command.jar"
done
install -m 0755 "$repo/image/nixek" "$root/opt/nixek/bin/nixek"
# The Nix library builder and evaluation pods build and evaluate with, at /opt/nixek/src/nix (NIXEK_IMAGE_NIX_DIR's
# default), without its tests. A job's machine gets the agent jar above (/opt/nixek/nixek-agent.jar,
# NIXEK_IMAGE_AGENT_JAR's default) by content, so no agent sources are needed here (nix/README.md).
src="$root/opt/nixek/src"
(cd "$repo" && find nix -path nix/tests -prune -o -print) | while read -r f; do
  if [ -d "$repo/$f" ]; then install -d "$src/$f"; else install -D -m 0644 "$repo/$f" "$src/$f"; fi
done
