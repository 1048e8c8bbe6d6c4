package dev.nixek.ci.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code job-names} command, what a repository's commit evaluation pod runs: the names of the jobs in a flake's
 * job attribute (e.g. {@code ci.jobs}) at a pinned revision, as {@code {"names": [...]}} in the termination message.
 * A flake without the attribute, an attribute that is not a set of jobs, and more jobs than {@code --max-jobs} are
 * answers too ({@code {"reason": "AttributeMissing"|"NotAJobSet"|"TooManyJobs", "error": ...}}, exit 0): the
 * repository's condition names them. Only a flake that does not evaluate fails the command (exit 2, nix's error).
 * The walk is written in Nix so that nix never fails for a missing attribute: every job is only forced to its type.
 */
final class JobNames {
  static final String COMMAND = "job-names";
  static final int DEFAULT_MAX_JOBS = 100;
  private static final int MAX_OUTPUT_BYTES = 1024 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> VALUED = Set.of("--flake", "--attribute", "--max-jobs", "--nix-instantiate",
      "--termination-log", ForgeToken.FLAG);

  static final String USAGE = String.join("\n",
      "Usage: java -jar nixek-builder.jar job-names --flake REF --attribute PATH [options]",
      "",
      "Prints the names of the jobs in a flake's job attribute (REF pinned with its rev) into the termination",
      "message: {\"names\": [...]}, or {\"reason\": AttributeMissing|NotAJobSet|TooManyJobs, \"error\": ...}.",
      "",
      "  --max-jobs N            more jobs than this is TooManyJobs (default " + DEFAULT_MAX_JOBS + ")",
      "  --forge-token-file PATH the repository's token, to fetch a git+https flake with",
      "  --nix-instantiate PATH  (default nix-instantiate)",
      "  --termination-log PATH  (default " + CliOptions.DEFAULT_TERMINATION_LOG + ")",
      "",
      "Exit: 0 answered, 2 the flake does not evaluate, 64 usage, 1 internal error.",
      "");

  /** The walk: an answer for every shape of the outputs; {@code flake} and {@code attribute} come as --argstr. */
  static final String EXPRESSION = String.join("\n",
      "{ flake, attribute }:",
      "let",
      "  path = builtins.filter builtins.isString (builtins.split \"\\\\.\" attribute);",
      "  walk = v: p: if p == [ ] then { found = v; }",
      "    else if builtins.isAttrs v && builtins.hasAttr (builtins.head p) v",
      "    then walk (builtins.getAttr (builtins.head p) v) (builtins.tail p)",
      "    else { missing = builtins.head p; };",
      "  r = walk (builtins.getFlake flake).outputs path;",
      "  isJob = v: builtins.isAttrs v || builtins.isFunction v;",
      "  names = builtins.attrNames r.found;",
      "  bad = builtins.filter (n: !(isJob (builtins.getAttr n r.found))) names;",
      "in",
      "  if r ? missing then { reason = \"AttributeMissing\"; missing = r.missing; }",
      "  else if !(builtins.isAttrs r.found) || (r.found.type or null) == \"derivation\"",
      "  then { reason = \"NotAJobSet\"; type = if builtins.isAttrs r.found then \"derivation\" else builtins.typeOf r.found; }",
      "  else if bad != [ ] then { reason = \"NotAJobSet\"; job = builtins.head bad;",
      "    type = builtins.typeOf (builtins.getAttr (builtins.head bad) r.found); }",
      "  else { inherit names; }",
      "");

  record Options(String flake, String attribute, int maxJobs, String nixInstantiate, Path terminationLog,
      Path forgeTokenFile) {
    static Options parse(String[] args) throws BuilderException {
      Map<String, String> values = CliOptions.options(args, Set.of(), VALUED);
      String flake = values.get("--flake");
      String attribute = values.get("--attribute");
      if (flake == null || flake.isBlank() || attribute == null || attribute.isBlank()) {
        throw BuilderException.usage("--flake and --attribute are required");
      }
      int max;
      try {
        max = Integer.parseInt(values.getOrDefault("--max-jobs", Integer.toString(DEFAULT_MAX_JOBS)));
      } catch (NumberFormatException e) {
        throw BuilderException.usage("--max-jobs must be a number");
      }
      if (max < 1 || max > 10000) {
        throw BuilderException.usage("--max-jobs must be 1..10000");
      }
      return new Options(flake, attribute, max, values.getOrDefault("--nix-instantiate", "nix-instantiate"),
          Path.of(values.getOrDefault("--termination-log", CliOptions.DEFAULT_TERMINATION_LOG.toString())),
          values.containsKey(ForgeToken.FLAG) ? Path.of(values.get(ForgeToken.FLAG)) : null);
    }
  }

  private final Options options;
  private final Map<String, String> environment;
  private final OutputStream log;
  private final LogTail tail;
  private final Redactor redactor;

  /** @param redactor what nix's messages must not show in the log (the repository's token) */
  JobNames(Options options, Map<String, String> environment, OutputStream log, LogTail tail, Redactor redactor) {
    this.options = options;
    this.environment = environment;
    this.log = log;
    this.tail = tail;
    this.redactor = redactor;
  }

  List<String> command() {
    return List.of(options.nixInstantiate(), "--eval", "--strict", "--json",
        "--extra-experimental-features", "nix-command flakes",
        "--log-format", "internal-json",
        "--expr", EXPRESSION,
        "--argstr", "flake", options.flake(),
        "--argstr", "attribute", options.attribute());
  }

  /** Evaluates; returns the termination message. */
  String run() throws BuilderException, InterruptedException {
    JsonNode answer;
    try {
      answer = JSON.readTree(evaluate());
    } catch (IOException e) {
      throw BuilderException.build("nix-instantiate exited 0 but printed no JSON document");
    }
    return message(answer, options.attribute(), options.maxJobs());
  }

  /** The termination message for nix's answer (its shape is {@link #EXPRESSION}'s). */
  static String message(JsonNode answer, String attribute, int maxJobs) throws BuilderException {
    if (answer == null || !answer.isObject()) {
      throw BuilderException.build("nix-instantiate printed no job names");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    String reason = answer.path("reason").asText("");
    if (reason.equals("AttributeMissing")) {
      out.put("reason", reason);
      out.put("error", "the flake's outputs have no " + attribute + " (no attribute '"
          + answer.path("missing").asText() + "')");
    } else if (reason.equals("NotAJobSet")) {
      out.put("reason", reason);
      out.put("error", answer.has("job")
          ? attribute + "." + answer.get("job").asText() + " is a " + answer.path("type").asText()
              + ", not a job (an attribute set or a function)"
          : attribute + " is a " + answer.path("type").asText() + ", not an attribute set of jobs");
    } else if (answer.path("names").isArray()) {
      List<String> names = new ArrayList<>();
      answer.get("names").forEach(n -> names.add(n.asText()));
      if (names.size() > maxJobs) {
        out.put("reason", "TooManyJobs");
        out.put("error", attribute + " has " + names.size() + " jobs; at most " + maxJobs + " are made per commit");
      } else {
        out.put("names", names);
      }
    } else {
      throw BuilderException.build("nix-instantiate printed no job names");
    }
    String json;
    try {
      json = JSON.writeValueAsString(out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    if (TerminationMessage.utf8Length(json) > TerminationMessage.MAX_BYTES) {
      return "{\"reason\":\"TooManyJobs\",\"error\":\"the names of the jobs in " + attribute + " take more than "
          + TerminationMessage.MAX_BYTES + " bytes\"}";
    }
    return json;
  }

  private byte[] evaluate() throws BuilderException, InterruptedException {
    ProcessBuilder pb = ChildEnvironment.apply(new ProcessBuilder(command()), environment);
    pb.redirectInput(new File("/dev/null"));
    NixErrors errors = new NixErrors(Map.of());
    KilledOnShutdown child = KilledOnShutdown.start(pb, "job-names-killer", options.nixInstantiate());
    Process process = child.process();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    boolean[] overflow = new boolean[1];
    Thread out = new Thread(() -> copyBounded(process.getInputStream(), stdout, overflow), "job-names-stdout");
    Thread err = new Thread(() -> pumpErrors(process.getErrorStream(), errors), "job-names-stderr");
    out.start();
    err.start();
    int exit;
    try {
      exit = process.waitFor();
      out.join();
      err.join();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      throw e;
    } finally {
      child.close();
    }
    if (exit != 0) {
      throw BuilderException.build(errors.error());
    }
    if (overflow[0]) {
      throw BuilderException.build("the job names take more than " + MAX_OUTPUT_BYTES + " bytes");
    }
    return stdout.toByteArray();
  }

  private static void copyBounded(InputStream in, ByteArrayOutputStream into, boolean[] overflow) {
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (into.size() + n <= MAX_OUTPUT_BYTES) {
          into.write(buffer, 0, n);
        } else {
          overflow[0] = true;
        }
      }
    } catch (IOException e) {
      // the exit code and the parse say what went wrong
    }
  }

  private void pumpErrors(InputStream in, NixErrors errors) {
    try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        String shown = redactor.redact(errors.line(line));
        if (shown != null) {
          byte[] bytes = (shown + "\n").getBytes(StandardCharsets.UTF_8);
          synchronized (log) {
            log.write(bytes);
            log.flush();
          }
          tail.append(bytes, 0, bytes.length);
        }
      }
    } catch (IOException e) {
      // what nix said so far is in the tail
    }
  }
}
