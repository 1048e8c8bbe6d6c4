package dev.nixek.ci.builder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code nixek-builder}: the process of a NixekMachineImage builder pod ({@code build}) and of a NixekJob's
 * evaluation pod ({@code evaluate}, {@link JobEvaluation}), and of a repository's commit evaluation ({@code job-names},
 * {@link JobNames}). Whatever happens, it leaves one termination message (the
 * operator's channel back from the pod) and an exit code from {@link ExitCode}. One instance runs one command.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final String SIGNALLED = "terminated by a signal before the image was uploaded";
  static final String EVALUATION_SIGNALLED = "the evaluation was stopped by a signal (the pod's deadline passed, "
      + "or it was deleted) before its result was posted";

  /** How long the signal hook waits for the killed build's last output; the pod's grace period is 30 s. */
  static final long SIGNAL_DRAIN_MILLIS = 5_000;

  private final Map<String, String> env;
  private final PrintStream out;
  private final LogTail tail = new LogTail();
  private volatile Redactor redactor;
  private volatile String signalled = SIGNALLED;
  private final ReportPoster poster;
  /** Set once a termination message is written: the signal hook must neither race nor overwrite it. */
  private final AtomicBoolean reported = new AtomicBoolean();
  private volatile Path terminationLog = CliOptions.DEFAULT_TERMINATION_LOG;
  /** The repository's git configuration while nix runs; deleted before any termination message is written. */
  private volatile ForgeToken forgeToken;

  /**
   * @param env the environment: the build command's (less {@code AWS_*}), and the secrets to redact
   * @param out the pod log: the build's output is streamed here
   */
  public Main(Map<String, String> env, PrintStream out) {
    this(env, out, new ReportPoster());
  }

  Main(Map<String, String> env, PrintStream out, ReportPoster poster) {
    this.env = env;
    this.out = out;
    this.poster = poster;
    this.redactor = Redactor.fromEnvironment(env);
  }

  public static void main(String[] args) {
    System.exit(new Main(System.getenv(), System.out).run(args));
  }

  public int run(String[] args) {
    terminationLog = CliOptions.terminationLogOf(args);
    // SIGTERM (pod deleted or evicted) ends the JVM without returning here: still say why
    Thread onSignal = new Thread(this::reportSignal, "termination-message-on-signal");
    Runtime.getRuntime().addShutdownHook(onSignal);
    try {
      return execute(args);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(onSignal);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs, and finds the message already written
      }
    }
  }

  private int execute(String[] args) {
    boolean evaluate = args.length > 0 && args[0].equals(EvaluateOptions.EVALUATE);
    if (evaluate) {
      signalled = EVALUATION_SIGNALLED;
    }
    try {
      boolean jobNames = args.length > 0 && args[0].equals(JobNames.COMMAND);
      String message = jobNames ? jobNames(args) : evaluate ? evaluate(args) : build(args);
      if (message == null) {
        reported.set(true); // --help: nothing to report
        return ExitCode.OK;
      }
      message = redactor.redact(message);
      LOG.info("result: {}", message);
      report(message);
      return ExitCode.OK;
    } catch (BuilderException e) {
      if (e.exitCode() == ExitCode.USAGE) {
        System.err.println(evaluate ? "nixek-builder evaluate: " + e.getMessage() + " (see evaluate --help)"
            : "nixek-builder: " + e.getMessage() + " (see --help)");
      }
      return fail(e.exitCode(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail(ExitCode.INTERNAL, e);
    } catch (RuntimeException e) {
      LOG.error("unexpected failure", e);
      return fail(ExitCode.INTERNAL, e);
    }
  }

  /** {@code build} (and {@code upload}): the termination message of success, or null after {@code --help}. */
  private String build(String[] args) throws BuilderException, InterruptedException {
    CliOptions options = CliOptions.parse(args, env);
    if (options.help()) {
      printUsage(CliOptions.USAGE);
      return null;
    }
    terminationLog = options.terminationLog();
    ImageResult result = options.command().equals(CliOptions.BUILD)
        ? new ImageBuild(options, env, out, tail).run()
        : new FileUpload(options).run();
    return TerminationMessage.success(result);
  }

  /** {@code evaluate}: the termination message of success, or null after {@code --help}. */
  private String evaluate(String[] args) throws BuilderException, InterruptedException {
    if (List.of(args).contains("--help")) {
      printUsage(EvaluateOptions.USAGE);
      return null;
    }
    EvaluateOptions options = EvaluateOptions.parse(args);
    terminationLog = options.terminationLog();
    String token = TokenFile.read(options.tokenFile(), "the token file");
    redactor = redactor.with(token);
    if (options.forgeTokenFile() == null) {
      return new JobEvaluation(options, env, out, tail, poster, redactor).run(token);
    }
    try (ForgeToken forge = openForgeToken(options.forgeTokenFile(), options.flake())) {
      return new JobEvaluation(options, forge.environment(env), out, tail, poster, redactor).run(token);
    }
  }

  /** {@code job-names} (a repository's commit): the termination message, or null after {@code --help}. */
  private String jobNames(String[] args) throws BuilderException, InterruptedException {
    if (List.of(args).contains("--help")) {
      printUsage(JobNames.USAGE);
      return null;
    }
    JobNames.Options options = JobNames.Options.parse(args);
    terminationLog = options.terminationLog();
    if (options.forgeTokenFile() == null) {
      return new JobNames(options, env, out, tail, redactor).run();
    }
    try (ForgeToken forge = openForgeToken(options.forgeTokenFile(), options.flake())) {
      return new JobNames(options, forge.environment(env), out, tail, redactor).run();
    }
  }

  /** The repository's token: redacted from now on, its git configuration deleted before any termination message. */
  private ForgeToken openForgeToken(Path file, String flake) throws BuilderException {
    ForgeToken forge = ForgeToken.open(file, flake);
    redactor = forge.redacting(redactor);
    forgeToken = forge;
    return forge;
  }

  private void printUsage(String usage) {
    out.print(usage);
    out.flush();
  }

  private int fail(int exitCode, Throwable e) {
    String error = redactor.redact(e.getMessage() != null ? e.getMessage() : e.toString());
    LOG.error("failed (exit {}): {}", exitCode, error);
    if (shuttingDown()) {
      // the signal's hooks killed the build or the upload; that, not their failure, is the news
      tail.append("\n" + error);
      error = signalled;
    }
    // the causes say what S3 or the file system answered; the build log tail says why a build failed
    StringBuilder causes = new StringBuilder();
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      causes.append("\ncaused by: ").append(c);
    }
    if (causes.length() > 0) {
      tail.append(causes.toString());
    }
    report(TerminationMessage.failure(error, redactor.redact(tail.text())));
    return exitCode;
  }

  /**
   * The signal hook: another hook kills the build, which closes its pipes; the lines still in them are read
   * into the tail (at most {@link #SIGNAL_DRAIN_MILLIS}) before the message is written.
   */
  private void reportSignal() {
    try {
      tail.awaitWriters(SIGNAL_DRAIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    report(TerminationMessage.failure(signalled, redactor.redact(tail.text())));
  }

  /** True once the JVM has begun to shut down (SIGTERM): hooks can no longer be added then. */
  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }

  /**
   * Writes the termination message unless one was written. Synchronized: the JVM halts once the signal hook
   * returns, so the hook must wait for a write the main thread has begun rather than skip it.
   */
  private synchronized void report(String message) {
    if (!reported.compareAndSet(false, true)) {
      return;
    }
    ForgeToken forge = forgeToken;
    if (forge != null) {
      forge.close(); // the signal hook's message too comes after the token's git configuration is gone
    }
    try {
      TerminationMessage.writeTo(terminationLog, message);
    } catch (IOException e) {
      // outside a pod /dev/termination-log does not exist: the log lines still have the result
      LOG.warn("cannot write the termination message to {}: {}", terminationLog, e.toString());
    }
  }
}
