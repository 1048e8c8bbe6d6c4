package dev.nixek.ci.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code evaluate} command: run {@code nix-instantiate --eval --strict --json nix/eval.nix} on one job, exactly as
 * nix/README.md documents it, and post the JSON it prints to the report API. Only a zero exit counts (nix may print
 * partial JSON before it fails); a failure is reported with nix's own message and position, read from
 * {@code --log-format internal-json}. The evaluation's stderr goes to the pod log as plain text. The post carries
 * {@code nixVersion} too: what {@code nix-instantiate --version} says, recorded in the job's status.
 */
final class JobEvaluation {
  /** The most a result may be here; the report API's own limit (224 KiB by default) is what really decides. */
  static final int MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
  /** The job file's path inside the pod means nothing to the job's author: messages say this instead. */
  static final String JOB_FILE_LABEL = "spec.nix";
  private static final Logger LOG = LoggerFactory.getLogger(JobEvaluation.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final EvaluateOptions options;
  private final Map<String, String> environment;
  private final OutputStream log;
  private final LogTail tail;
  private final ReportPoster poster;
  private final Redactor redactor;

  JobEvaluation(EvaluateOptions options, Map<String, String> environment, OutputStream log, LogTail tail,
      ReportPoster poster) {
    this(options, environment, log, tail, poster, new Redactor(List.of()));
  }

  /** @param redactor what nix's messages must not show in the log (the repository's token) */
  JobEvaluation(EvaluateOptions options, Map<String, String> environment, OutputStream log, LogTail tail,
      ReportPoster poster, Redactor redactor) {
    this.options = options;
    this.environment = environment;
    this.log = log;
    this.tail = tail;
    this.poster = poster;
    this.redactor = redactor;
  }

  /** The nix-instantiate command line. */
  List<String> command() {
    List<String> argv = new ArrayList<>(List.of(options.nixInstantiate(), "--eval", "--strict", "--json",
        options.nixDir().resolve("eval.nix").toString(),
        "--extra-experimental-features", "nix-command flakes",
        "--log-format", "internal-json"));
    if (options.jobFile() != null) {
      argv.addAll(List.of("--argstr", "jobFile", options.jobFile().toAbsolutePath().toString()));
    } else {
      argv.addAll(List.of("--argstr", "flake", options.flake(), "--argstr", "attribute", options.attribute()));
    }
    if (options.nixpkgs() != null && !options.nixpkgs().isBlank()) {
      argv.addAll(List.of("--argstr", "nixpkgs", options.nixpkgs()));
    }
    if (options.system() != null && !options.system().isBlank()) {
      argv.addAll(List.of("--argstr", "system", options.system()));
    }
    // read by nix only when the job has a machine; a missing jar is then nix's "nixek: agentJar ... does not exist"
    argv.addAll(List.of("--argstr", "agentJar", options.agentJar().toString()));
    if (options.noMachine()) {
      argv.addAll(List.of("--arg", "machine", "false"));
    }
    argv.addAll(EvaluationSandbox.arguments(options));
    return argv;
  }

  /** Evaluates and posts; returns the termination message of success. */
  String run(String token) throws BuilderException, InterruptedException {
    if (options.jobFile() != null && !Files.isRegularFile(options.jobFile())) {
      throw BuilderException.usage("--job-file " + options.jobFile() + " is not a file");
    }
    byte[] result = evaluate();
    String nixVersion = NixVersion.of(options.nixInstantiate(), environment).orElseThrow(() ->
        BuilderException.build(options.nixInstantiate() + " --version did not run or named no Nix version"));
    JsonNode parsed;
    try {
      parsed = JSON.readTree(result);
    } catch (IOException e) {
      throw BuilderException.build("nix-instantiate exited 0 but printed no JSON document");
    }
    if (parsed == null || !parsed.isObject() || !parsed.path("steps").isArray()) {
      throw BuilderException.build("nix-instantiate printed no evaluation output ({\"steps\": [...], ...})");
    }
    // eval.nix's document plus the provenance the job's status records
    ((ObjectNode) parsed).put("nixVersion", nixVersion);
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(parsed);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ReportPoster.Outcome posted = poster.post(options, token, body);
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("result", posted.result());
    message.put("nixVersion", nixVersion);
    message.put("steps", parsed.get("steps").size());
    JsonNode drv = parsed.path("machine").path("drvPath");
    message.put("drvPath", drv.isTextual() ? drv.asText() : null);
    message.put("bytes", result.length);
    try {
      return JSON.writeValueAsString(message);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private byte[] evaluate() throws BuilderException, InterruptedException {
    ProcessBuilder pb = ChildEnvironment.apply(new ProcessBuilder(command()), environment);
    pb.redirectInput(new File("/dev/null"));
    Map<String, String> rewrites = new LinkedHashMap<>();
    if (options.jobFile() != null) {
      rewrites.put(options.jobFile().toAbsolutePath().toString(), JOB_FILE_LABEL);
    }
    NixErrors errors = new NixErrors(rewrites);
    LOG.info("evaluating {}", options.jobFile() != null ? JOB_FILE_LABEL : options.flake() + "#" + options.attribute());
    KilledOnShutdown child = KilledOnShutdown.start(pb, "evaluation-killer", options.nixInstantiate());
    Process process = child.process();
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    BitSet overflow = new BitSet(1);
    Thread out = new Thread(() -> copyBounded(process.getInputStream(), stdout, overflow), "evaluation-stdout");
    Thread err = new Thread(() -> pumpErrors(process.getErrorStream(), errors), "evaluation-stderr");
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
      // nix may have printed part of a document: it means nothing
      throw BuilderException.build(errors.error());
    }
    if (overflow.get(0)) {
      throw BuilderException.build("the evaluation output is larger than " + MAX_OUTPUT_BYTES + " bytes");
    }
    return stdout.toByteArray();
  }

  private static void copyBounded(InputStream in, ByteArrayOutputStream into, BitSet overflow) {
    byte[] buffer = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (into.size() + n <= MAX_OUTPUT_BYTES) {
          into.write(buffer, 0, n);
        } else {
          overflow.set(0);
        }
      }
    } catch (IOException e) {
      LOG.warn("reading the evaluation output failed: {}", e.toString());
    }
  }

  /** Nix's stderr: structured lines become plain text in the pod log and the tail; the error is remembered. */
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
      LOG.warn("reading the evaluation's messages failed: {}", e.toString());
    }
  }
}
