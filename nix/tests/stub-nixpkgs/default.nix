# A stand-in for `import nixpkgs { system; }`, for offline tests only. Every package is a tiny
# builtins.derivation that really builds (with /bin/sh; Debian's nix has no sandbox), so a stand-in image can
# be built end to end without the network. Names and call shapes follow nixpkgs where nix/ uses them.
{ system ? "x86_64-linux", ... }:
let
  lib = import ./lib;

  hostPlatform = {
    inherit system;
    isLinux = true;
    isAarch64 = system == "aarch64-linux";
    isx86_64 = system == "x86_64-linux";
    linuxArch = if system == "aarch64-linux" then "arm64" else "x86_64";
  };

  # `run` is a shell script with PATH set to the build host's tools (the stub only, never real nixpkgs).
  stubDerivation = { name, run, ... }@attrs:
    builtins.derivation ((removeAttrs attrs [ "run" "passthru" "meta" ]) // {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" run ];
      PATH = "/usr/bin:/bin";
    }) // (attrs.passthru or { }) // { meta = attrs.meta or { }; };

  stubPackage = name: stubDerivation {
    inherit name;
    run = ''
      mkdir -p "$out/bin"
      printf '#!/bin/sh\necho "stub %s $*"\n' "$name" > "$out/bin/$name"
      chmod +x "$out/bin/$name"
    '';
  };

  packageNames = [
    "bash" "bashInteractive" "cargo" "coreutils" "curl" "findutils" "getent" "git" "gnugrep" "gnused" "hello"
    "iproute2" "iptables" "jq" "nftables" "nix" "openssh" "python3" "rustc" "rustup" "shadow" "systemd"
    "util-linux" "jdk17_headless" "jdk21_headless" "jre_headless" "jdk_headless" "makeWrapper" "qemu"
  ];

  writeTextFile = { name, text, executable ? false, destination ? "" }: stubDerivation {
    inherit name text destination;
    run = ''
      target="$out$destination"
      mkdir -p "$(dirname "$target")"
      printf '%s' "$text" > "$target"
      ${lib.optionalString executable ''chmod +x "$target"''}
    '';
  };

  pkgs = lib.genAttrs packageNames stubPackage // {
    inherit lib system hostPlatform stubDerivation writeTextFile;
    path = ./.;
    stdenv = { inherit hostPlatform; buildPlatform = hostPlatform; targetPlatform = hostPlatform; isLinux = true; };
    targetPlatform = hostPlatform;
    buildPlatform = hostPlatform;
    runtimeShell = "${pkgs.bash}/bin/bash";

    callPackage = fn: overrides:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);

    writeText = name: text: writeTextFile { inherit name text; };
    writeShellScript = name: text: writeTextFile {
      inherit name;
      executable = true;
      text = "#!${pkgs.runtimeShell}\n${text}";
    };
    writeShellScriptBin = name: text: writeTextFile {
      inherit name;
      executable = true;
      destination = "/bin/${name}";
      text = "#!${pkgs.runtimeShell}\n${text}";
    };
    runCommand = name: env: script: stubDerivation (env // { inherit name; run = script; });

    formats.json = { }: {
      type = lib.types.anything // { description = "JSON value"; };
      generate = name: value: writeTextFile { inherit name; text = builtins.toJSON value; };
    };

    # maven.buildMavenPackage: keeps the arguments that decide the real derivation (so drvPaths move when they
    # do) and builds a stand-in `bin/<pname>` instead of running Maven.
    maven = stubPackage "maven" // {
      buildMavenPackage = { pname, version, src, mvnHash ? "", mvnParameters ? "", mvnJdk ? null, installPhase ? "", nativeBuildInputs ? [ ], doCheck ? true, meta ? { }, ... }:
        let
          fetchedMavenDeps = stubDerivation {
            name = "${pname}-${version}-maven-deps";
            inherit src mvnParameters mvnHash;
            run = ''mkdir -p "$out/.m2"'';
          };
        in
        stubDerivation {
          name = "${pname}-${version}";
          inherit pname version src mvnParameters installPhase fetchedMavenDeps nativeBuildInputs;
          mvnJdk = if mvnJdk == null then "" else mvnJdk;
          doCheck = if doCheck then "1" else "";
          run = ''
            mkdir -p "$out/bin" "$out/share/${pname}"
            printf '#!/bin/sh\necho "${pname} stand-in $*"\n' > "$out/bin/${pname}"
            chmod +x "$out/bin/${pname}"
          '';
          passthru = { inherit fetchedMavenDeps src; };
          inherit meta;
        };
    };
  };
in
pkgs
