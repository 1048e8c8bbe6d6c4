# mkMachine: a job's machine (a NixOS module) -> the derivation of its disk image, with the nixek-ci agent in it.
#
#   format = "amazon": the EC2 image (VHD by default) that the builder pod uploads and EC2 imports; its drvPath
#                      is the machine's identity (same module + nixpkgs + system + agent jar => same drvPath).
#   format = "qemu":   `system.build.vm`, a script that boots the machine in QEMU, for local testing; the job
#                      config is read from QEMU's fw_cfg:
#                      QEMU_OPTS="-fw_cfg name=opt/nixek/config,file=job.json" ./result/bin/run-*-vm
#
# nixpkgs 25.05 and later build images through `image.modules` / `config.system.build.images.amazon`; older
# ones by importing nixos/maintainers/scripts/ec2/amazon-image.nix and `config.system.build.amazonImage`. The
# choice follows whether NixOS' module list in that nixpkgs has image/images.nix.
{ nixpkgs
, machine
, system ? "x86_64-linux"
, format ? "amazon"
, extraModules ? [ ]
  # The agent: `agentJar`, an absolute path to a built nixek-agent.jar (what the operator's pods pass: the image's
  # jar, run by the machine's JDK, packages/agent-jar.nix); or `agent`, a package or a function pkgs -> package;
  # neither: this repo's agent built from source with Maven (packages/agent.nix, needs its mvnHash).
, agentJar ? null
, agent ? null
  # Root disk size in GiB, or "auto" (sized to the closure); null keeps nixpkgs' default (4 GiB in 25.05).
, diskSizeGiB ? null
  # "uefi" or "legacy-bios"; null keeps nixpkgs' default (uefi on aarch64-linux, legacy-bios on x86_64-linux).
, bootMode ? null
  # "vpc" (VHD, compact; EC2 imports it) or "raw".
, diskFormat ? "vpc"
}:
let
  inherit (import ./util.nix) describe fail isModule show;

  np = import ./nixpkgs.nix nixpkgs;
  optionalAttrs = cond: attrs: if cond then attrs else { };

  problems =
    (if !isModule machine then [ "'machine' must be a NixOS module (a function or an attribute set), got ${describe machine}" ] else [ ])
    ++ (if !builtins.elem format [ "amazon" "qemu" ] then [ "machine format must be \"amazon\" or \"qemu\", got ${show format}" ] else [ ])
    ++ (if format == "amazon" && !builtins.elem system [ "x86_64-linux" "aarch64-linux" ] then [ "EC2 images are built for x86_64-linux or aarch64-linux, not ${show system}" ] else [ ])
    ++ (if !builtins.elem bootMode [ null "uefi" "legacy-bios" ] then [ "bootMode must be \"uefi\" or \"legacy-bios\", got ${show bootMode}" ] else [ ])
    ++ (if bootMode == "legacy-bios" && system == "aarch64-linux" then [ "aarch64-linux EC2 images boot with UEFI only, not legacy-bios" ] else [ ])
    ++ (if !builtins.elem diskFormat [ "vpc" "raw" ] then [ "diskFormat must be \"vpc\" or \"raw\", got ${show diskFormat}" ] else [ ])
    ++ (if !(diskSizeGiB == null || diskSizeGiB == "auto" || (builtins.isInt diskSizeGiB && diskSizeGiB > 0)) then [ "diskSizeGiB must be a positive integer or \"auto\", got ${show diskSizeGiB}" ] else [ ])
    ++ (if !builtins.isList extraModules then [ "extraModules must be a list of NixOS modules, got ${describe extraModules}" ] else [ ])
    ++ agentJarProblems;

  # A string is taken as a path only when absolute: a relative one would resolve against nix's working directory.
  agentJarPath =
    if builtins.isPath agentJar then agentJar
    else if builtins.isString agentJar && builtins.substring 0 1 agentJar == "/" then /. + agentJar
    else null;

  agentJarProblems =
    if agentJar == null then [ ]
    else if agent != null then [ "give either 'agentJar' or 'agent', not both" ]
    else if agentJarPath == null then [ "'agentJar' must be an absolute path to nixek-agent.jar, got ${show agentJar}" ]
    else if !builtins.pathExists agentJarPath then [ "agentJar ${toString agentJarPath} does not exist (build it with mvn -pl agent -am package, or use the image's /opt/nixek/nixek-agent.jar)" ]
    else [ ];

  agentPackage = pkgs:
    if agentJar != null then pkgs.callPackage ../packages/agent-jar.nix { jar = agentJarPath; }
    else if builtins.isFunction agent then agent pkgs
    else agent;

  agentModule = { pkgs, ... }: {
    imports = [ ../modules/agent.nix ];
    config.services.nixek-agent = { enable = true; }
      // optionalAttrs (agentJar != null || agent != null) { package = agentPackage pkgs; };
  };

  sizeMiB = if diskSizeGiB == "auto" then "auto" else diskSizeGiB * 1024;

  amazonSettings = legacy: {
    amazonImage.format = diskFormat;
    # User-data is the job config, token included: amazon-init would copy it to /etc/nixos/configuration.nix
    # (world-readable) and run nixos-rebuild on it.
    virtualisation.amazon-init.enable = false;
  }
  // optionalAttrs (bootMode != null) { ec2.efi = bootMode == "uefi"; }
  // optionalAttrs (diskSizeGiB != null) (
    if legacy then { amazonImage.sizeMB = sizeMiB; } else { virtualisation.diskSize = sizeMiB; }
  );

  # Whether this nixpkgs' NixOS imports image/images.nix by default (25.05 and later). Depends on modulesPath
  # only (a special argument), so choosing the imports below cannot recurse into config.
  hasImageModules = modulesPath:
    let
      list = modulesPath + "/module-list.nix";
    in
    builtins.pathExists list && builtins.length (builtins.split "image/images\\.nix" (builtins.readFile list)) > 1;

  amazonModule = { modulesPath, ... }:
    if hasImageModules modulesPath then {
      image.modules.amazon = amazonSettings false;
    } else {
      imports = [
        (modulesPath + "/../maintainers/scripts/ec2/amazon-image.nix")
        (amazonSettings true)
      ];
    };

  qemuModule = { lib, ... }: {
    services.nixek-agent.configFile = lib.mkDefault "/sys/firmware/qemu_fw_cfg/by_name/opt/nixek/config/raw";
    boot.kernelModules = [ "qemu_fw_cfg" ];
  };

  nixos = np.nixosSystem {
    inherit system;
    modules = [ machine agentModule (if format == "qemu" then qemuModule else amazonModule) ] ++ extraModules;
  };

  build = nixos.config.system.build;

  image =
    if format == "qemu" then build.vm
    else if build ? amazonImage then build.amazonImage
    else build.images.amazon;
in
if problems != [ ] then fail (builtins.head problems)
else image // {
  # The evaluated NixOS system (for tests and debugging); the image's own configuration, which for
  # nixpkgs >= 25.05 is an extension of it, is `nixosConfig`.
  nixekSystem = nixos;
  nixosConfig = image.passthru.config or nixos.config;
}
