package dev.nixek.ci.builder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code nixek-builder}: the process of a NixekMachineImage builder pod. Whatever happens, it leaves one
 * termination message (the operator's only channel back from the pod) and an exit code from {@link ExitCode}.
 * One instance runs one command.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final String SIGNALLED = "terminated by a signal before the image was uploaded";

  private final Map<String, String> env;
  private final PrintStream out;
  private final LogTail tail = new LogTail();
  private final Redactor redactor;
  /** Set once a termination message is written: the signal hook must neither race nor overwrite it. */
  private final AtomicBoolean reported = new AtomicBoolean();
  private volatile Path terminationLog = CliOptions.DEFAULT_TERMINATION_LOG;

  /**
   * @param env the environment: the build command's (less {@code AWS_*}), and the secrets to redact
   * @param out the pod log: the build's output is streamed here
   */
  public Main(Map<String, String> env, PrintStream out) {
    this.env = env;
    this.out = out;
    this.redactor = Redactor.fromEnvironment(env);
  }

  public static void main(String[] args) {
    System.exit(new Main(System.getenv(), System.out).run(args));
  }

  public int run(String[] args) {
    terminationLog = CliOptions.terminationLogOf(args);
    // SIGTERM (pod deleted or evicted) ends the JVM without returning here: still say why
    Thread onSignal = new Thread(() -> report(TerminationMessage.failure(SIGNALLED, redactor.redact(tail.text()))),
        "termination-message-on-signal");
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
    try {
      CliOptions options = CliOptions.parse(args, env);
      if (options.help()) {
        out.print(CliOptions.USAGE);
        out.flush();
        reported.set(true);
        return ExitCode.OK;
      }
      terminationLog = options.terminationLog();
      ImageResult result = options.command().equals(CliOptions.BUILD)
          ? new ImageBuild(options, env, out, tail).run()
          : new FileUpload(options).run();
      String message = TerminationMessage.success(result);
      LOG.info("result: {}", message);
      report(message);
      return ExitCode.OK;
    } catch (BuilderException e) {
      if (e.exitCode() == ExitCode.USAGE) {
        System.err.println("nixek-builder: " + e.getMessage() + " (see --help)");
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

  private int fail(int exitCode, Throwable e) {
    String error = redactor.redact(e.getMessage() != null ? e.getMessage() : e.toString());
    LOG.error("failed (exit {}): {}", exitCode, error);
    if (shuttingDown()) {
      // the signal's hooks killed the build or the upload; that, not their failure, is the news
      tail.append("\n" + error);
      error = SIGNALLED;
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
    try {
      TerminationMessage.writeTo(terminationLog, message);
    } catch (IOException e) {
      // outside a pod /dev/termination-log does not exist: the log lines still have the result
      LOG.warn("cannot write the termination message to {}: {}", terminationLog, e.toString());
    }
  }
}
