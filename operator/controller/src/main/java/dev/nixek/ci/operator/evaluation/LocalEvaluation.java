package dev.nixek.ci.operator.evaluation;

import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.pod.PodOutcome;
import dev.nixek.ci.protocol.CheckoutCredential;
import io.fabric8.kubernetes.api.model.ContainerStateTerminatedBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One evaluation as a child process of the operator: its private directory (mode 0700: the job file, the token file
 * 0400, the termination log), the process, and its verdict. The process is held to the evaluation's deadline and
 * killed with its children when it passes it or is stopped; its output goes to the operator's log, line by line, with
 * the token replaced; its directory is deleted once it has ended. What it means for the job is
 * {@link LocalEvaluations}'s business.
 */
final class LocalEvaluation {
  private static final Logger LOG = LoggerFactory.getLogger(LocalEvaluation.class);
  /** How much of the termination log is read: what a kubelet keeps of a termination message. */
  static final int MAX_TERMINATION_BYTES = 4096;
  private static final Duration KILL_GRACE = Duration.ofSeconds(5);
  private static final int TAIL_LINES = 5;

  /** How a run ended. */
  sealed interface Verdict {
    /**
     * Exited 0: a job's evaluation posted its result; a commit's ({@code job-names}) answered in its termination log,
     * which is {@code message} (null when it wrote none).
     */
    record Ended(String message) implements Verdict {}

    /** Failed: the message for the job's condition. */
    record Failed(String message) implements Verdict {}
  }

  private final String label;
  private final String token;
  private final String forgeToken;
  private final LocalEvaluationCommand.Files files;
  private final Process process;
  private final Deque<String> tail = new ArrayDeque<>();
  private volatile boolean timedOut;
  private volatile boolean stopped;
  private volatile Verdict verdict;

  private LocalEvaluation(String label, String token, String forgeToken, LocalEvaluationCommand.Files files,
      Process process) {
    this.label = label;
    this.token = token;
    this.forgeToken = forgeToken;
    this.files = files;
    this.process = process;
  }

  /**
   * Writes the job file ({@code jobNix}, null for a flake job), the token file ({@code token}, null for a commit's
   * evaluation, which posts nothing) and the repository's token file ({@code forgeToken}, null unless a private
   * repository's own commit or job is evaluated; the pod's Secret volume) into a fresh private directory under
   * {@code parent}, and starts {@code argv} there; {@code onEnd} runs once it has a verdict.
   */
  static LocalEvaluation start(String label, Path parent, String jobNix, String token, String forgeToken,
      java.util.function.Function<LocalEvaluationCommand.Files, List<String>> argv, Map<String, String> operatorEnv,
      Duration deadline, EvaluationOptions options, Consumer<LocalEvaluation> onEnd) throws IOException {
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent, "nixek-eval-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    LocalEvaluationCommand.Files files = LocalEvaluationCommand.Files.in(dir);
    try {
      if (jobNix != null) {
        write(files.jobFile(), jobNix);
      }
      if (token != null) {
        write(files.tokenFile(), token);
      }
      if (forgeToken != null) {
        write(files.forgeTokenFile(), forgeToken);
      }
      ProcessBuilder pb = new ProcessBuilder(argv.apply(files)).directory(dir.toFile()).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().clear();
      pb.environment().putAll(LocalEvaluationCommand.environment(operatorEnv, files));
      Process process = pb.start();
      LocalEvaluation run = new LocalEvaluation(label, token, forgeToken, files, process);
      Thread watcher = new Thread(() -> run.watch(deadline, options, onEnd), "local-evaluation-" + process.pid());
      watcher.setDaemon(true);
      watcher.start();
      return run;
    } catch (IOException | RuntimeException e) {
      delete(dir);
      throw e;
    }
  }

  private static void write(Path file, String content) throws IOException {
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
  }

  long pid() {
    return process.pid();
  }

  /** The verdict, or null while it runs. */
  Verdict verdict() {
    return verdict;
  }

  /** Kills it (the job was cancelled or deleted, or the operator stops); no verdict is given after this. */
  void stop() {
    stopped = true;
    kill();
  }

  private void watch(Duration deadline, EvaluationOptions options, Consumer<LocalEvaluation> onEnd) {
    Thread pump = new Thread(this::pumpOutput, "local-evaluation-output-" + process.pid());
    pump.setDaemon(true);
    pump.start();
    try {
      if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        kill();
      }
      process.waitFor();
      pump.join(KILL_GRACE.toMillis());
      verdict = judge(deadline, options);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
      verdict = new Verdict.Failed("the operator stopped while the evaluation ran");
    } finally {
      delete(files.dir());
    }
    if (!stopped) {
      onEnd.accept(this);
    }
  }

  private Verdict judge(Duration deadline, EvaluationOptions options) {
    if (timedOut) {
      return new Verdict.Failed("the evaluation ran longer than " + deadline.toSeconds() + "s and was stopped ("
          + EvaluationOptions.TIMEOUT.key() + ")");
    }
    int exit = process.exitValue();
    if (exit == 0) {
      return new Verdict.Ended(terminationMessage());
    }
    String message = terminationMessage();
    var terminated = new ContainerStateTerminatedBuilder().withExitCode(exit).withMessage(message).build();
    if (PodOutcome.errorReport(terminated).isPresent()) {
      String error = EvaluationResults.failure(terminated);
      return new Verdict.Failed(error.contains("out of memory") && !options.memoryLimit().isEmpty()
          ? error + " (each process of a local evaluation may use " + EvaluationOptions.MEMORY_LIMIT.key() + "="
              + options.memoryLimit() + ")"
          : error);
    }
    List<String> lines;
    synchronized (tail) {
      lines = List.copyOf(tail);
    }
    return new Verdict.Failed("the evaluation process exited with code " + exit
        + (lines.isEmpty() ? " without a message" : ": " + String.join(" | ", lines)));
  }

  private String terminationMessage() {
    try (var in = Files.newInputStream(files.terminationLog())) {
      return redact(new String(in.readNBytes(MAX_TERMINATION_BYTES), StandardCharsets.UTF_8));
    } catch (IOException e) {
      return null;
    }
  }

  /** The process's output, to the operator's log; the last lines are kept for a failure without a message. */
  private void pumpOutput() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        String shown = redact(line);
        LOG.info("evaluation of {}: {}", label, shown);
        synchronized (tail) {
          if (!shown.isBlank()) {
            tail.addLast(shown);
            if (tail.size() > TAIL_LINES) {
              tail.removeFirst();
            }
          }
        }
      }
    } catch (IOException e) {
      // the process was killed: its output ends here
    }
  }

  /** Its output never shows the tokens, whatever the job's Nix code prints. */
  String redact(String text) {
    String shown = token == null ? text : text.replace(token, "<evaluation token>");
    return forgeToken == null ? shown : shown.replace(forgeToken, "<repository token>")
        .replace(new CheckoutCredential(CheckoutCredential.DEFAULT_USERNAME, forgeToken).basic(), "<repository token>");
  }

  private void kill() {
    List<ProcessHandle> tree = process.descendants().toList();
    process.destroy();
    tree.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  private static void delete(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          LOG.warn("cannot delete {}: {}", p, e.toString());
        }
      });
    } catch (java.nio.file.NoSuchFileException e) {
      // already gone
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
