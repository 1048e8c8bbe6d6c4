package dev.nixek.ci.builder;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The parsed command line of {@code nixek-builder}. {@code build} is what the builder pod runs; {@code upload}
 * (not in the usage text) uploads an existing file through the same code path, for the benchmark and for
 * debugging an upload without rebuilding.
 */
public record CliOptions(
    String command,
    Path exprFile,
    String buildCommand,
    Path file,
    String drvPath,
    String expectDrvPath,
    String bucket,
    String key,
    String keyPrefix,
    String identity,
    String region,
    URI endpoint,
    boolean pathStyle,
    int partSizeMib,
    Path terminationLog,
    boolean emulateKvm,
    Path uploadGrant,
    Path cacheGrant) {

  public static final String BUILD = "build";
  public static final String UPLOAD = "upload";
  public static final String HELP = "help";
  public static final Path DEFAULT_TERMINATION_LOG = Path.of("/dev/termination-log");
  public static final int DEFAULT_PART_SIZE_MIB = 16;
  public static final String DEFAULT_KEY_PREFIX = "images";
  /** S3's limit on key length, in UTF-8 bytes; it also keeps the termination message far below 4 KiB. */
  static final int MAX_KEY_BYTES = 1024;

  private static final Set<String> FLAGS = Set.of("--path-style", "--help");
  private static final Set<String> VALUED = Set.of("--expr-file", "--build-command", "--file", "--drv-path",
      "--expect-drv-path",
      "--bucket", "--key", "--key-prefix", "--identity", "--region", "--endpoint", "--part-size-mib",
      "--termination-log", "--kvm-fallback", "--upload-grant", "--cache-grant");
  private static final Set<String> BUILD_ONLY = Set.of("--expr-file", "--build-command", "--expect-drv-path",
      "--kvm-fallback", "--cache-grant");
  private static final Set<String> UPLOAD_ONLY = Set.of("--file");

  public static final String USAGE = String.join("\n",
      "Usage: java -jar nixek-builder.jar build [options]",
      "",
      "Builds a NixekMachineImage's disk image with Nix, streams it to S3 (multipart, SHA-256 in the",
      "object metadata) and writes the result as JSON to the termination-message file.",
      "",
      "Build:",
      "  --expr-file PATH        image expression, exported to the build command as $NIXEK_IMAGE_EXPR",
      "                          (required with the default build command unless that variable is set)",
      "  --build-command CMD     shell command (/bin/sh -c) whose last stdout line is the output path",
      "                          (default: " + BuildCommand.DEFAULT_COMMAND + ")",
      "  --drv-path PATH         drvPath of the output (default: nix-store --query --deriver OUT)",
      "  --expect-drv-path PATH  fail unless the build's drvPath is this one (what the job's evaluation gave)",
      "  --kvm-fallback MODE     without a usable /dev/kvm, a build that needs 'kvm' (nixpkgs' disk image VM):",
      "                          fail (default: at once, before building anything) or emulate (QEMU's TCG: slow)",
      "                          ($" + KvmDevice.DEVICE_ENV + " names another device path, for tests)",
      "Upload:",
      "  --upload-grant FILE     upload through the presigned part URLs in FILE ({bucket, key, urls}: what the",
      "                          operator allows this pod to write); no AWS credentials are used then",
      "  --cache-grant FILE      after the upload, push what this build made (unsigned) as one bundle through",
      "                          the presigned part URLs in FILE, for the operator to sign and publish to the",
      "                          binary cache; a failure there is reported, never fails the build",
      "  --bucket NAME           S3 bucket (required)",
      "  --key KEY               object key; or:",
      "  --key-prefix PREFIX     key = PREFIX/IDENTITY/IMAGE-FILE-NAME (default prefix: " + DEFAULT_KEY_PREFIX + ")",
      "  --identity ID           (default: the drvPath's name, e.g. <hash>-nixos-amazon-image)",
      "  --region REGION         (default: the AWS SDK region chain, e.g. AWS_REGION)",
      "  --endpoint URL          S3 endpoint override (S3-compatible stores, tests)",
      "  --path-style            path-style bucket addressing",
      "  --part-size-mib N       multipart part size, 5..2047 (default " + DEFAULT_PART_SIZE_MIB
          + "; grown to keep <= 10,000 parts)",
      "Result:",
      "  --termination-log PATH  (default " + DEFAULT_TERMINATION_LOG + ")",
      "  --help",
      "",
      "Without --upload-grant, credentials come from the AWS SDK default chain (environment, profile, IRSA).",
      "Exit: 0 done, 2 build failed, 3 upload failed, 64 usage, 1 internal error.",
      "");

  /** Parses {@code args}; {@code env} supplies {@code NIXEK_IMAGE_EXPR} when {@code --expr-file} is absent. */
  public static CliOptions parse(String[] args, Map<String, String> env) throws BuilderException {
    if (args.length == 0) {
      throw BuilderException.usage("no command given (expected \"build\")");
    }
    String command = args[0];
    if (command.equals("--help") || command.equals("-h") || command.equals(HELP)) {
      return helpOptions();
    }
    if (!command.equals(BUILD) && !command.equals(UPLOAD)) {
      throw BuilderException.usage("unknown command \"" + command + "\" (expected \"build\" or \"evaluate\")");
    }
    Map<String, String> values = options(args, FLAGS, VALUED);
    if (values.containsKey("--help")) {
      return helpOptions();
    }
    for (String name : command.equals(BUILD) ? UPLOAD_ONLY : BUILD_ONLY) {
      if (values.containsKey(name)) {
        throw BuilderException.usage(name + " is not an option of \"" + command + "\"");
      }
    }

    String bucket = required(values, "--bucket");
    String key = values.get("--key");
    if (key != null && (values.containsKey("--key-prefix") || values.containsKey("--identity"))) {
      throw BuilderException.usage("--key excludes --key-prefix and --identity");
    }
    if (key != null) {
      checkKey(key);
    }
    String drvPath = values.get("--drv-path");
    String identity = values.get("--identity");
    if (identity != null && (identity.isBlank() || identity.contains("/"))) {
      throw BuilderException.usage("--identity must be a non-empty name without '/': " + identity);
    }

    Path exprFile = pathOrNull(values.get("--expr-file"));
    String buildCommand = values.getOrDefault("--build-command", BuildCommand.DEFAULT_COMMAND);
    Path file = null;
    if (command.equals(BUILD)) {
      if (exprFile == null && !values.containsKey("--build-command") && env.get(BuildCommand.EXPR_ENV) == null) {
        throw BuilderException.usage("--expr-file is required (or $" + BuildCommand.EXPR_ENV + ")");
      }
    } else {
      buildCommand = null;
      file = Path.of(required(values, "--file"));
      if (key == null && identity == null && drvPath == null) {
        throw BuilderException.usage("upload needs --key, --identity or --drv-path to name the object");
      }
    }

    return new CliOptions(
        command,
        exprFile,
        buildCommand,
        file,
        drvPath,
        values.get("--expect-drv-path"),
        bucket,
        key,
        values.getOrDefault("--key-prefix", DEFAULT_KEY_PREFIX),
        identity,
        values.get("--region"),
        endpoint(values.get("--endpoint")),
        values.containsKey("--path-style"),
        partSizeMib(values.get("--part-size-mib")),
        Path.of(values.getOrDefault("--termination-log", DEFAULT_TERMINATION_LOG.toString())),
        emulateKvm(values.get("--kvm-fallback")),
        uploadGrant(values.get("--upload-grant"), key),
        pathOrNull(values.get("--cache-grant")));
  }

  private static Path uploadGrant(String value, String key) throws BuilderException {
    if (value == null) {
      return null;
    }
    if (key == null) {
      // the grant is for one key: the builder names it, the operator checks it is the one it granted
      throw BuilderException.usage("--upload-grant needs --key");
    }
    return Path.of(value);
  }

  /**
   * The termination-log path, taken leniently from arguments that may not parse: a usage error must still be
   * reported where the operator looks for it.
   */
  public static Path terminationLogOf(String[] args) {
    Path path = DEFAULT_TERMINATION_LOG;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--termination-log") && i + 1 < args.length) {
        path = Path.of(args[i + 1]);
      } else if (args[i].startsWith("--termination-log=")) {
        path = Path.of(args[i].substring("--termination-log=".length()));
      }
    }
    return path;
  }

  public boolean help() {
    return command.equals(HELP);
  }

  public int partSizeBytes() {
    return (int) (partSizeMib * PartPlan.MIB);
  }

  private static CliOptions helpOptions() {
    return new CliOptions(HELP, null, null, null, null, null, null, null, null, null, null, null, false,
        DEFAULT_PART_SIZE_MIB, DEFAULT_TERMINATION_LOG, false, null, null);
  }

  /** The options after the command: {@code --name value}, {@code --name=value}, or a flag; each at most once. */
  static Map<String, String> options(String[] args, Set<String> flags, Set<String> valued) throws BuilderException {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (flags.contains(name)) {
        if (value != null) {
          throw BuilderException.usage(name + " takes no value");
        }
        values.put(name, "true");
      } else if (valued.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw BuilderException.usage(name + " needs a value");
          }
          value = args[++i];
        }
        if (values.put(name, value) != null) {
          throw BuilderException.usage(name + " given twice");
        }
      } else {
        throw BuilderException.usage("unknown option " + arg);
      }
    }
    return values;
  }

  private static String required(Map<String, String> values, String name) throws BuilderException {
    String value = values.get(name);
    if (value == null || value.isBlank()) {
      throw BuilderException.usage(name + " is required");
    }
    return value;
  }

  private static void checkKey(String key) throws BuilderException {
    if (key.isEmpty() || key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
      throw BuilderException.usage("--key must be 1.." + MAX_KEY_BYTES + " UTF-8 bytes");
    }
    if (key.chars().anyMatch(Character::isISOControl)) {
      throw BuilderException.usage("--key must not contain control characters");
    }
  }

  private static Path pathOrNull(String value) {
    return value == null ? null : Path.of(value);
  }

  private static URI endpoint(String value) throws BuilderException {
    if (value == null) {
      return null;
    }
    try {
      URI uri = new URI(value);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw BuilderException.usage("--endpoint must be an http(s) URL: " + value);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw BuilderException.usage("--endpoint is not a URL: " + value);
    }
  }

  private static boolean emulateKvm(String value) throws BuilderException {
    if (value == null || value.equals("fail")) {
      return false;
    }
    if (value.equals("emulate")) {
      return true;
    }
    throw BuilderException.usage("--kvm-fallback must be fail or emulate: " + value);
  }

  private static int partSizeMib(String value) throws BuilderException {
    if (value == null) {
      return DEFAULT_PART_SIZE_MIB;
    }
    int mib;
    try {
      mib = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw BuilderException.usage("--part-size-mib is not a number: " + value);
    }
    if (mib < PartPlan.MIN_PART_SIZE / PartPlan.MIB || mib > PartPlan.MAX_PART_SIZE / PartPlan.MIB) {
      throw BuilderException.usage("--part-size-mib must be 5..2047 (S3's minimum part is 5 MiB): " + mib);
    }
    return mib;
  }
}
