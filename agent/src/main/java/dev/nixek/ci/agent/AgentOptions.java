package dev.nixek.ci.agent;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The agent's command line, parsed once. Exactly one config source is given. */
record AgentOptions(
    Optional<Path> configFile,
    Optional<URI> imdsBaseUrl,
    Duration imdsTimeout,
    boolean poweroff,
    String poweroffCommand,
    Optional<Path> workDir,
    Optional<Path> spoolDir,
    Optional<String> runAs,
    Duration drainTimeout,
    Duration killGrace,
    boolean help) {

  static final String DEFAULT_POWEROFF_COMMAND = "systemctl poweroff";

  static final String USAGE = String.join("\n",
      "usage: nixek-agent (--config FILE | --config-from-imds BASE_URL) [options]",
      "",
      "  --config FILE                 read the job config (JSON) from FILE",
      "  --config-from-imds BASE_URL   read it from EC2 user-data through IMDSv2, e.g. http://169.254.169.254",
      "  --imds-timeout-seconds N      give up on the metadata service after N seconds (default 600)",
      "  --poweroff                    power the machine off when done (also when the config says so)",
      "  --poweroff-command CMD        shell command that powers off (default: systemctl poweroff)",
      "  --work-dir DIR                the steps' working directory (default: a new temporary directory)",
      "  --spool-dir DIR               where step output waits for delivery (default: WORK_DIR/.nixek-spool)",
      "  --run-as USER                 run steps as USER (through setpriv; the agent itself stays privileged)",
      "  --drain-timeout-seconds N     keep delivering reports for N seconds after the last step (default 600)",
      "  --kill-grace-seconds N        SIGTERM-to-SIGKILL grace when a step is killed (default 5)",
      "",
      "exit codes: 0 all steps succeeded, 1 a step failed or timed out, 2 usage or config error,",
      "            3 reports not delivered before the drain timeout, or the report API refused the job");

  static AgentOptions parse(String... args) throws UsageException {
    Path config = null;
    URI imds = null;
    Duration imdsTimeout = Duration.ofSeconds(600);
    boolean poweroff = false;
    String poweroffCommand = DEFAULT_POWEROFF_COMMAND;
    Path workDir = null;
    Path spoolDir = null;
    String runAs = null;
    Duration drain = Duration.ofSeconds(600);
    Duration grace = Duration.ofSeconds(5);
    boolean help = false;

    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        value = arg.substring(eq + 1);
        arg = arg.substring(0, eq);
      }
      switch (arg) {
        case "--help", "-h" -> help = true;
        case "--poweroff" -> {
          if (value != null) {
            throw new UsageException("--poweroff takes no value");
          }
          poweroff = true;
        }
        case "--config", "--config-from-imds", "--imds-timeout-seconds", "--poweroff-command", "--work-dir",
            "--spool-dir", "--run-as", "--drain-timeout-seconds", "--kill-grace-seconds" -> {
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new UsageException(arg + " needs a value");
            }
            value = args[++i];
          }
          if (value.isBlank()) {
            throw new UsageException(arg + " needs a non-empty value");
          }
          switch (arg) {
            case "--config" -> config = Path.of(value);
            case "--config-from-imds" -> imds = baseUrl(value);
            case "--imds-timeout-seconds" -> imdsTimeout = seconds(arg, value);
            case "--poweroff-command" -> poweroffCommand = value;
            case "--work-dir" -> workDir = Path.of(value);
            case "--spool-dir" -> spoolDir = Path.of(value);
            case "--run-as" -> runAs = value;
            case "--drain-timeout-seconds" -> drain = seconds(arg, value);
            case "--kill-grace-seconds" -> grace = seconds(arg, value);
            default -> throw new IllegalStateException(arg);
          }
        }
        default -> throw new UsageException("unknown argument: " + arg);
      }
    }
    if (!help && (config == null) == (imds == null)) {
      throw new UsageException("give exactly one of --config and --config-from-imds");
    }
    return new AgentOptions(Optional.ofNullable(config), Optional.ofNullable(imds), imdsTimeout, poweroff,
        poweroffCommand, Optional.ofNullable(workDir), Optional.ofNullable(spoolDir), Optional.ofNullable(runAs),
        drain, grace, help);
  }

  private static URI baseUrl(String value) throws UsageException {
    try {
      URI uri = new URI(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
      if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new UsageException("--config-from-imds needs an http:// URL, got " + value);
      }
      return uri;
    } catch (java.net.URISyntaxException e) {
      throw new UsageException("--config-from-imds: not a URL: " + value);
    }
  }

  private static Duration seconds(String option, String value) throws UsageException {
    try {
      long n = Long.parseLong(value);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return Duration.ofSeconds(n);
    } catch (NumberFormatException e) {
      throw new UsageException(option + " needs a whole number of seconds >= 0, got " + value);
    }
  }
}
