#!/usr/bin/env bash
# Lays out the nixek-ci image's files under <root> from a Maven build of the repository: one runnable jar per command
# in /opt/nixek, the entrypoint that dispatches to them in /opt/nixek/bin, and in /opt/nixek/src the Nix library (nix/,
# without its tests) with the agent's sources. The Dockerfile runs exactly this, and
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
# default), without its tests; beside it, what nix/packages/agent.nix builds the agent from (every pom.xml of the
# reactor, .mvn, the sources of its sourceModules): a machine's drvPath includes the agent, so evaluating a machine
# reads them, and the image must give the drvPath the repository gives.
src="$root/opt/nixek/src"
copy() { # copy <relative path>: a file or a tree of the repository, to the same place under $src; empty directories
  # too, as nix's builtins.path sees them
  (cd "$repo" && find "$1" -path nix/tests -prune -o -print) | while read -r f; do
    if [ -d "$repo/$f" ]; then install -d "$src/$f"; else install -D -m 0644 "$repo/$f" "$src/$f"; fi
  done
}
copy nix
copy pom.xml
if [ -d "$repo/.mvn" ]; then copy .mvn; fi
for m in $(sed -n 's|.*<module>\([^<]*\)</module>.*|\1|p' "$repo/pom.xml"); do
  copy "$m/pom.xml"
done
for m in $(sed -n 's|^ *sourceModules = \[\(.*\)\];.*|\1|p' "$repo/nix/packages/agent.nix" | tr -d '"'); do
  copy "$m/src"
done
