# NixOS module: the nixek-ci agent on a job's machine (docs/architecture.md#parts, docs/security.md).
#
# At boot the agent (root) reads its job config — EC2 user-data through IMDSv2, or a file in local/QEMU runs —,
# runs each step as the unprivileged `nixek-step` user (`--run-as`, through setpriv), reports to the report API
# and exits; systemd then powers the machine off, which terminates the instance. Step processes cannot reach
# the instance metadata service, where the job's token is: an nftables rule on the step user's uid is
# installed before the agent starts, and the agent does not start without it.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkEnableOption mkIf mkOption types;

  cfg = config.services.nixek-agent;
  stepUser = cfg.settings.run-as;

  # The addresses of the EC2 instance metadata service (IPv4, and the Nitro IPv6 endpoint).
  imdsAddresses = { ip = "169.254.169.254"; ip6 = "fd00:ec2::254"; };

  # One atomic nft transaction in a table of its own, so that it holds whichever firewall (iptables or
  # nftables, or none) the machine uses; running it again replaces the table.
  imdsGuard = pkgs.writeShellScript "nixek-imds-guard" ''
    set -euo pipefail
    uid=$(${pkgs.coreutils}/bin/id -u ${lib.escapeShellArg stepUser})
    ${pkgs.nftables}/bin/nft -f - <<EOF
    table inet nixek-imds
    delete table inet nixek-imds
    table inet nixek-imds {
      chain output {
        type filter hook output priority filter; policy accept;
        meta skuid $uid ip daddr ${imdsAddresses.ip} counter reject
        meta skuid $uid ip6 daddr ${imdsAddresses.ip6} counter reject
      }
    }
    EOF
  '';

  # settings -> the agent's command line: `--name=value`, `--name` for true, nothing for false or null;
  # in attribute-name order, so the unit (and the image) only change when a setting does.
  agentArgs =
    lib.optional (cfg.configFile != null) "--config=${cfg.configFile}"
    ++ lib.concatMap
      (name:
        let
          v = cfg.settings.${name};
        in
        if v == null || v == false then [ ]
        else if v == true then [ "--${name}" ]
        else [ "--${name}=${toString v}" ])
      (builtins.attrNames cfg.settings)
    ++ lib.optional cfg.poweroff "--poweroff"
    ++ cfg.extraArgs;

  # As nixpkgs' utils.escapeSystemdExecArgs: JSON-quoted, with systemd's `%` specifiers and `$` variables escaped.
  escapeExecArgs = args: lib.concatMapStringsSep " " (a: builtins.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON a)) args;

  seconds = description: mkOption {
    type = types.nullOr types.ints.unsigned;
    default = null;
    inherit description;
  };
in
{
  options.services.nixek-agent = {
    enable = mkEnableOption "the nixek-ci agent, which runs this machine's job once and powers it off";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ../packages/agent.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage <nixek-ci>/nix/packages/agent.nix { }";
      description = ''
        The agent package (providing `bin/nixek-agent`). mkMachine sets it from `agentJar` (the jar the
        operator's image ships, packages/agent-jar.nix). Defaults to this repository's agent built from source
        with the machine's own pkgs: the same derivation as the flake's `packages.<system>.agent` when the
        nixpkgs pins match.
      '';
    };

    configFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/sys/firmware/qemu_fw_cfg/by_name/opt/nixek/config/raw";
      description = ''
        Read the job config (the JSON document EC2 user-data holds) from this file (`--config`) instead of
        from the instance metadata service. For local and QEMU runs.
      '';
    };

    poweroff = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Power the machine off when the agent is done, whatever the outcome (`--poweroff`, with systemd's
        SuccessAction/FailureAction as a backstop for crashes). Turn off only on machines that are not
        disposable.
      '';
    };

    javaOptions = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "-Xmx256m" ];
      description = "JVM options for the agent (JDK_JAVA_OPTIONS; note that steps inherit the agent's environment).";
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Further command-line arguments for `nixek-agent`, after those from `settings`.";
    };

    settings = mkOption {
      default = { };
      description = ''
        The agent's command-line options, by their long names: each becomes `--name=value` (`--name` for
        true; false and null are left out). Names not declared here are passed on unchanged, so a new agent
        option needs no change to this module.
      '';
      type = types.submodule ({ config, ... }: {
        freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str ]));

        options = {
          config-from-imds = mkOption {
            type = types.nullOr types.str;
            default = if cfg.configFile == null then "http://${imdsAddresses.ip}" else null;
            defaultText = lib.literalExpression ''"http://169.254.169.254", or null when `configFile` is set'';
            description = "Base URL of the EC2 instance metadata service; the agent reads user-data through IMDSv2.";
          };

          run-as = mkOption {
            type = types.str;
            default = "nixek-step";
            description = ''
              The unprivileged user every step runs as (created by this module). The agent stays root and
              starts steps through setpriv; this user cannot reach the instance metadata service.
            '';
          };

          work-dir = mkOption {
            type = types.str;
            default = "/var/lib/${config.run-as}/work";
            description = "The steps' working directory, owned by the step user.";
          };

          spool-dir = mkOption {
            type = types.str;
            default = "/var/lib/nixek-agent/spool";
            description = "Where step output waits for delivery to the report API (readable by root only).";
          };

          poweroff-command = mkOption {
            type = types.str;
            default = "${pkgs.systemd}/bin/systemctl poweroff";
            description = "Shell command the agent runs to power the machine off.";
          };

          imds-timeout-seconds = seconds "Give up on the instance metadata service after this long (null: the agent's default).";
          drain-timeout-seconds = seconds "Keep delivering reports this long after the last step (null: the agent's default).";
          kill-grace-seconds = seconds "SIGTERM-to-SIGKILL grace when a step is killed (null: the agent's default).";
        };
      });
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = stepUser != "root";
        message = "services.nixek-agent.settings.run-as must not be root: steps must not reach the instance metadata service.";
      }
      {
        assertion = (cfg.configFile == null) != (cfg.settings.config-from-imds == null);
        message = "services.nixek-agent: set exactly one of `configFile` and `settings.config-from-imds`.";
      }
    ];

    users.users.${stepUser} = {
      isNormalUser = true;
      group = stepUser;
      home = "/var/lib/${stepUser}";
      createHome = true;
      description = "nixek-ci job steps";
    };
    users.groups.${stepUser} = { };

    systemd.tmpfiles.rules = [ "d ${cfg.settings.work-dir} 0750 ${stepUser} ${stepUser} -" ];

    systemd.services.nixek-imds-guard = {
      description = "Keep nixek-ci step processes away from the EC2 instance metadata service";
      wantedBy = [ "multi-user.target" ];
      before = [ "nixek-agent.service" ];
      # nftables.service flushes the whole ruleset when it (re)starts: come back after it.
      after = [ "firewall.service" "nftables.service" ];
      partOf = [ "nftables.service" ];
      # A failed guard leaves the agent unstarted: power off rather than idle until the job times out.
      unitConfig = lib.optionalAttrs cfg.poweroff { FailureAction = "poweroff"; };
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${imdsGuard}";
      };
    };

    systemd.services.nixek-agent = {
      description = "nixek-ci agent: runs this machine's job";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" "nixek-imds-guard.service" ];
      # No guard, no agent: a job must never run with the metadata service reachable from its steps.
      requires = [ "nixek-imds-guard.service" ];
      # The agent runs `getent` and `setpriv` (--run-as) and `git` (a job's checkout step,
      # docs/repositories.md#source-checkout); steps inherit this PATH, which ends with the machine's own
      # packages (environment.systemPackages) and setuid wrappers.
      path = [ pkgs.util-linux pkgs.getent pkgs.git "/run/wrappers" "/run/current-system/sw" ];
      environment = lib.optionalAttrs (cfg.javaOptions != [ ]) {
        JDK_JAVA_OPTIONS = lib.concatStringsSep " " cfg.javaOptions;
      };
      unitConfig = lib.optionalAttrs cfg.poweroff {
        # Backstop for the agent's own power-off: however it ends (done, step failed, crashed, no config),
        # the machine goes down and, with InstanceInitiatedShutdownBehavior=terminate, the instance too.
        SuccessAction = "poweroff";
        FailureAction = "poweroff";
      };
      serviceConfig = {
        Type = "exec";
        ExecStart = "${cfg.package}/bin/nixek-agent ${escapeExecArgs agentArgs}";
        # A job runs once: a restarted agent would run its steps again.
        Restart = "no";
        StateDirectory = "nixek-agent";
        StateDirectoryMode = "0700";
        # Steps are the agent's children, in its cgroup: stopping the agent stops them.
        KillMode = "control-group";
        # Deliberately no MemoryDenyWriteExecute (the JVM's JIT needs writable and executable memory) and no
        # NoNewPrivileges (the steps would inherit it).
      };
    };
  };
}
