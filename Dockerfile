# syntax=docker/dockerfile:1
# The nixek-ci image: one image for every process, its entrypoint dispatching on the first argument —
#   operator | report-api | builder | agent        (image/README.md)
# Build from the repository root:  docker build -t nixek-ci .
# Pin the base images by digest in your CI (docker buildx imagetools inspect debian:trixie-slim).
# Debian trixie: its nix-bin is the Nix the tests run (hack/nix-version pins the package version for both).
ARG BASE=debian:trixie-slim

FROM ${BASE} AS build
# trixie has no OpenJDK 17; JDK 21 compiles to the root pom's maven.compiler.release (17), so the jars run on 17+
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-21-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# the modules image/assemble.sh takes jars from, and nothing else; then the image's file tree in /out
RUN mvn -B -q -DskipTests -pl "$(image/assemble.sh --modules)" -am package \
 && image/assemble.sh /out

FROM ${BASE}
# JRE for all four; nix-bin for `builder` (nix build as a single user without a daemon: give its pod a writable /nix),
# exactly the version the tests ran (hack/nix-version); git for the operator (git ls-remote of NixekRepositories)
COPY hack/nix-version /opt/nixek/nix-version
RUN . /opt/nixek/nix-version \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-21-jre-headless "nix-bin=${NIX_DEB_VERSION}" git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 nixek \
 && useradd --system --uid 65532 --gid 65532 --home-dir /home/nixek --create-home nixek
COPY --from=build /out/ /
USER 65532:65532
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["/opt/nixek/bin/nixek"]
CMD ["--help"]
