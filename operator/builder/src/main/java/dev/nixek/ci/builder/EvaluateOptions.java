package dev.nixek.ci.builder;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The parsed command line of {@code nixek-builder evaluate}, what an evaluation pod runs: evaluate one job with
 * {@code nix/eval.nix} and post the result to the report API.
 *
 * @param nixDir this repository's {@code nix/} directory (in the image)
 * @param agentJar the agent jar a job's machine gets (its content is part of the machine's drvPath)
 * @param jobFile the job expression (a NixekJob's {@code spec.nix}), or null with {@code flake}
 * @param flake the flake reference with its pinned revision, or null with {@code jobFile}
 * @param attribute the job's attribute path in the flake
 * @param nixpkgs the nixpkgs given to the evaluation (flake reference or absolute path), or null
 * @param system the Nix system, or null for eval.nix's default
 * @param reportUrl the report API's base URL
 * @param namespace the job's namespace
 * @param jobName the job's name
 * @param tokenFile where the evaluation token is (a Secret volume); the token itself is never an argument
 * @param nixInstantiate the {@code nix-instantiate} to run
 * @param reportTimeout how long posting the result may be retried (the report API restarting, say)
 * @param terminationLog where the outcome goes
 * @param noMachine whether to leave the job's machine unevaluated ({@code --arg machine false}): for an operator
 *     whose provider boots no machine (local), so a machine needing nixpkgs does not stop its steps
 * @param allowedUris the URI prefixes the job's Nix may fetch from (nix's {@code allowed-uris}; {@link
 *     EvaluationSandbox})
 * @param allowImportFromDerivation whether the job's Nix may build during evaluation (import from derivation)
 * @param forgeTokenFile where the repository's token is (a Secret volume; {@link ForgeToken}), or null: a private
 *     repository's own job fetches its flake with it
 */
public record EvaluateOptions(
    Path nixDir,
    Path agentJar,
    Path jobFile,
    String flake,
    String attribute,
    String nixpkgs,
    String system,
    URI reportUrl,
    String namespace,
    String jobName,
    Path tokenFile,
    String nixInstantiate,
    Duration reportTimeout,
    Path terminationLog,
    boolean noMachine,
    List<String> allowedUris,
    boolean allowImportFromDerivation,
    Path forgeTokenFile) {

  public static final String EVALUATE = "evaluate";
  /** Where the nixek-ci image has the agent jar (image/assemble.sh). */
  public static final Path DEFAULT_AGENT_JAR = Path.of("/opt/nixek/nixek-agent.jar");
  static final String NO_MACHINE = "--no-machine";
  static final String ALLOW_IFD = "--allow-import-from-derivation";
  static final Duration DEFAULT_REPORT_TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern ALLOWED_URI = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*:\\S*");
  private static final Pattern K8S_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Set<String> VALUED = Set.of("--nix-dir", "--agent-jar", "--job-file", "--flake", "--attribute", "--nixpkgs",
      "--system", "--report-url", "--job", "--token-file", "--nix-instantiate", "--report-timeout-seconds",
      "--termination-log", "--allowed-uris", ForgeToken.FLAG);

  public static final String USAGE = String.join("\n",
      "Usage: java -jar nixek-builder.jar evaluate [options]",
      "",
      "Evaluates a nixek-ci job with nix/eval.nix (nix-instantiate --eval --strict --json) and posts the result",
      "(steps and machine) to the report API with the job's evaluation token. An evaluation error goes to the",
      "termination-message file as {\"error\": <nix's message and position>, \"logTail\": ...}.",
      "",
      "  --nix-dir DIR                  this repository's nix/ (required)",
      "  --agent-jar PATH               the agent jar a job's machine gets (default " + DEFAULT_AGENT_JAR + ")",
      "  --job-file PATH                the job expression; or:",
      "  --flake REF --attribute PATH   a flake job (REF pinned with its rev)",
      "  --nixpkgs REF                  nixpkgs flake reference or absolute path",
      "  --no-machine                   do not evaluate the job's machine (a provider that boots none); the",
      "                                 result then says machineSkipped when the job names one",
      "  --system SYSTEM                x86_64-linux (default) or aarch64-linux",
      "  --allowed-uris 'URI ...'       URI prefixes the job may fetch from (space-separated; default none):",
      "                                 nix runs with restrict-eval, so it reads no file outside nix/, the job",
      "                                 file's directory, the agent jar and a nixpkgs path, and fetches nothing else",
      "  --allow-import-from-derivation let the job build during evaluation (default: refused)",
      "  --report-url URL               report API base URL (required)",
      "  --job NAMESPACE/NAME           the job (required)",
      "  --token-file PATH              file holding the evaluation token (required)",
      "  --forge-token-file PATH        file holding the repository's token, to fetch a git+https flake with",
      "  --nix-instantiate PATH         (default nix-instantiate)",
      "  --report-timeout-seconds N     how long to retry posting the result (default "
          + DEFAULT_REPORT_TIMEOUT.toSeconds() + ")",
      "  --termination-log PATH         (default " + CliOptions.DEFAULT_TERMINATION_LOG + ")",
      "",
      "Exit: 0 recorded, 2 the job does not evaluate (or its result was refused), 3 the report API could not be",
      "reached, 64 usage, 1 internal error.",
      "");

  public static EvaluateOptions parse(String[] args) throws BuilderException {
    Map<String, String> values = CliOptions.options(args, Set.of(NO_MACHINE, ALLOW_IFD), VALUED);
    Path nixDir = Path.of(required(values, "--nix-dir"));
    Path agentJar = Path.of(values.getOrDefault("--agent-jar", DEFAULT_AGENT_JAR.toString()));
    if (!agentJar.isAbsolute()) {
      throw BuilderException.usage("--agent-jar must be an absolute path: " + agentJar);
    }
    String jobFile = values.get("--job-file");
    String flake = values.get("--flake");
    String attribute = values.get("--attribute");
    if ((jobFile == null) == (flake == null)) {
      throw BuilderException.usage("give exactly one of --job-file and --flake");
    }
    if (flake != null && (attribute == null || attribute.isBlank())) {
      throw BuilderException.usage("--flake needs --attribute");
    }
    if (jobFile != null && attribute != null) {
      throw BuilderException.usage("--attribute is only used with --flake");
    }
    String job = required(values, "--job");
    int slash = job.indexOf('/');
    if (slash < 0 || !K8S_NAME.matcher(job.substring(0, slash)).matches()
        || !K8S_NAME.matcher(job.substring(slash + 1)).matches()) {
      throw BuilderException.usage("--job must be NAMESPACE/NAME: " + job);
    }
    URI reportUrl;
    try {
      reportUrl = new URI(required(values, "--report-url"));
      if (!("http".equals(reportUrl.getScheme()) || "https".equals(reportUrl.getScheme()))
          || reportUrl.getHost() == null) {
        throw BuilderException.usage("--report-url must be an http(s) URL");
      }
    } catch (URISyntaxException e) {
      throw BuilderException.usage("--report-url is not a URL");
    }
    long timeout;
    try {
      timeout = Long.parseLong(values.getOrDefault("--report-timeout-seconds",
          Long.toString(DEFAULT_REPORT_TIMEOUT.toSeconds())));
    } catch (NumberFormatException e) {
      throw BuilderException.usage("--report-timeout-seconds must be a number of seconds");
    }
    if (timeout < 1 || timeout > 86400) {
      throw BuilderException.usage("--report-timeout-seconds must be 1..86400");
    }
    return new EvaluateOptions(nixDir, agentJar, jobFile == null ? null : Path.of(jobFile), flake, attribute,
        values.get("--nixpkgs"), values.get("--system"), reportUrl, job.substring(0, slash), job.substring(slash + 1),
        Path.of(required(values, "--token-file")), values.getOrDefault("--nix-instantiate", "nix-instantiate"),
        Duration.ofSeconds(timeout),
        Path.of(values.getOrDefault("--termination-log", CliOptions.DEFAULT_TERMINATION_LOG.toString())),
        values.containsKey(NO_MACHINE), allowedUris(values.getOrDefault("--allowed-uris", "")),
        values.containsKey(ALLOW_IFD), values.containsKey(ForgeToken.FLAG) ? Path.of(values.get(ForgeToken.FLAG))
            : null);
  }

  /** nix's own list format, checked here so that a bad entry is a usage error and not nix's puzzle. */
  static List<String> allowedUris(String value) throws BuilderException {
    List<String> uris = new ArrayList<>();
    for (String uri : value.strip().split("\\s+")) {
      if (uri.isEmpty()) {
        continue;
      }
      if (!ALLOWED_URI.matcher(uri).matches()) {
        throw BuilderException.usage("--allowed-uris: '" + uri + "' is not a URI prefix (scheme:...)");
      }
      uris.add(uri);
    }
    return List.copyOf(uris);
  }

  private static String required(Map<String, String> values, String name) throws BuilderException {
    String value = values.get(name);
    if (value == null || value.isBlank()) {
      throw BuilderException.usage(name + " is required");
    }
    return value;
  }
}
