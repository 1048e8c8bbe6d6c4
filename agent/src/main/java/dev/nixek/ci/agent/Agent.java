package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentExit;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepSecret;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job: runs the steps in order on this thread while a {@link Reporter} thread delivers their reports, then
 * waits (up to the drain timeout) for the last report to be acknowledged.
 */
final class Agent {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  static final int EXIT_OK = AgentExit.OK;
  static final int EXIT_STEP_FAILED = AgentExit.STEP_FAILED;
  static final int EXIT_USAGE = AgentExit.USAGE;
  static final int EXIT_NOT_REPORTED = AgentExit.NOT_REPORTED;
  static final int EXIT_REPORT_REFUSED = AgentExit.REPORT_REFUSED;
  /** Reported for the step that was running when the agent got SIGTERM (128 + 15). */
  static final int SIGTERM_EXIT_CODE = 143;
  /** How long a SIGTERM'd agent keeps trying to report the killed step before it exits. */
  static final Duration SHUTDOWN_REPORT_TIME = Duration.ofSeconds(5);
  /** How long the agent keeps trying to say why it stopped a job early before it exits anyway. */
  static final Duration END_REPORT_TIME = Duration.ofSeconds(10);
  /** The variable naming the directory of a step's secret files. */
  static final String SECRETS_DIR_ENV = "NIXEK_SECRETS_DIR";

  private final AgentConfig config;
  private final Path spoolDir;
  private final StepRunner runner;
  private final Checkout checkout;
  private final Duration drainTimeout;
  private final ReportQueue queue = new ReportQueue();
  private final Reporter reporter;
  private final Thread reporterThread;
  private final ArtifactUploader artifacts;
  private volatile boolean stopping;
  private volatile boolean done;
  private SecretSource secretSource = SecretSource.NONE;
  private SecretFiles secretFiles;
  /** The job's secret values once fetched (before the first step that needs them), by {@code secret/key}. */
  private Map<String, byte[]> secretValues;
  private SecretMasks masks = SecretMasks.NONE;

  Agent(AgentConfig config, Path spoolDir, StepRunner runner, Checkout checkout, ReportClient client,
      Supplier<Backoff> backoff, Duration drainTimeout) {
    this(config, spoolDir, runner, checkout, client, backoff, drainTimeout, null);
  }

  /** {@code artifacts}: uploads the steps' artifacts (null: a step's artifacts are not uploaded). */
  Agent(AgentConfig config, Path spoolDir, StepRunner runner, Checkout checkout, ReportClient client,
      Supplier<Backoff> backoff, Duration drainTimeout, ArtifactUploader artifacts) {
    this.artifacts = artifacts;
    this.config = config;
    this.spoolDir = spoolDir;
    this.runner = runner;
    this.checkout = checkout;
    this.drainTimeout = drainTimeout;
    this.reporter = new Reporter(client, queue, config.namespace(), config.name(), backoff, this::jobRefused);
    this.reporterThread = new Thread(reporter, "reporter");
    this.reporterThread.setDaemon(true);
  }

  /** Where this agent fetches the job's secrets and writes its secret files (docs/secrets.md). */
  Agent withSecrets(SecretSource source, SecretFiles files) {
    this.secretSource = source;
    this.secretFiles = files;
    return this;
  }

  /** Runs the job; returns the exit code. */
  int run() throws InterruptedException {
    reporterThread.start();
    int exitCode = EXIT_OK;
    try {
      for (int i = 0; i < config.steps().size() && !stopping; i++) {
        AgentStep step = config.steps().get(i);
        OutputSpool spool;
        try {
          spool = new OutputSpool(spoolDir.resolve("step-" + i + ".out"));
        } catch (IOException e) {
          // without a spool the step's output could not be reported: don't run it, end the job as failed
          LOG.error("cannot create the output spool for step {} ({}): {}", i, step.name(), e.toString());
          exitCode = EXIT_STEP_FAILED;
          break;
        }
        ReportQueue.Entry entry = new ReportQueue.Entry(i, step.name(), Instant.now().toString(), spool);
        queue.add(entry);
        LOG.info("step {}/{} ({}) started", i + 1, config.steps().size(), step.name());
        StepRunner.Result result;
        boolean checkedOut = step.isCheckout();
        if (checkedOut) {
          result = checkout.run(i, step, spool);
        } else {
          try {
            Map<String, String> secretEnv = prepareSecrets(step, spool);
            result = runner.run(i, step, spool, secretEnv, masks);
          } catch (SecretSource.Unavailable | IOException e) {
            // the step cannot have what it needs: it is not run, and says why in its own output
            LOG.error("step {} ({}) not run: {}", i, step.name(), e.getMessage());
            writeNotice(spool, "nixek-agent: step not run: " + e.getMessage() + "\n");
            spool.seal();
            result = new StepRunner.Result(StepRunner.CANNOT_START_EXIT_CODE, false, false);
          }
        }
        uploadArtifacts(i, step, entry, result);
        entry.finish(new StepFinished(result.exitCode(), Instant.now().toString(), spool.size(), result.timedOut()));
        LOG.info("step {}/{} ({}) finished: exit code {}{}, {} bytes of output", i + 1, config.steps().size(),
            step.name(), result.exitCode(), result.timedOut() ? " (timed out)" : "", spool.size());
        if (result.aborted()) {
          break;
        }
        if (checkedOut && i + 1 < config.steps().size() && result.exitCode() == 0 && !result.timedOut()) {
          awaitCheckoutEnded(entry);
        }
        if (result.exitCode() != 0 || result.timedOut()) {
          exitCode = EXIT_STEP_FAILED;
          int skipped = config.steps().size() - i - 1;
          if (skipped > 0) {
            LOG.info("{} later step(s) not run", skipped);
          }
          break;
        }
      }
    } finally {
      queue.close();
      if (secretFiles != null) {
        try {
          secretFiles.close();
        } catch (IOException e) {
          LOG.error("cannot remove the job's secret files: {}", e.toString());
        }
      }
    }
    runner.killLeftovers();

    reporterThread.join(drainTimeout.toMillis());
    if (reporterThread.isAlive()) {
      reporterThread.interrupt();
      reporterThread.join(1000);
      LOG.error("reports could not be delivered within the drain timeout of {} s", drainTimeout.toSeconds());
    }
    done = true;
    return switch (reporter.outcome()) {
      case DELIVERED -> {
        LOG.info("job {}/{} done: {}, every report delivered", config.namespace(), config.name(),
            exitCode == EXIT_OK ? "all steps succeeded" : "a step failed");
        yield exitCode;
      }
      case REPORT_REFUSED -> {
        LOG.error("job {}/{} done: the report API refused a report ({}), so the job's status cannot show what "
            + "happened after it: exit code {}", config.namespace(), config.name(), reporter.refusal(),
            EXIT_REPORT_REFUSED);
        reporter.reportEnded(EXIT_REPORT_REFUSED, "the report API refused a report: " + reporter.refusal(),
            END_REPORT_TIME);
        yield EXIT_REPORT_REFUSED;
      }
      case JOB_REFUSED, GAVE_UP, RUNNING -> EXIT_NOT_REPORTED;
    };
  }

  /**
   * Uploads the step's artifacts, succeeded or failed (a failed step's test report is what one wants most), before
   * its end is reported, so the report API still sees it Running, and before the next step can change the files.
   * Not after an abort (SIGTERM, a refused job): nothing would accept them.
   */
  private void uploadArtifacts(int i, AgentStep step, ReportQueue.Entry entry, StepRunner.Result result)
      throws InterruptedException {
    if (artifacts == null || step.artifacts() == null || step.artifacts().isEmpty() || result.aborted()) {
      return;
    }
    // the report API accepts artifacts of a Running step: wait until it knows the step started
    while (!entry.awaitStarted(1000)) {
      if (stopping || !reporterThread.isAlive()) {
        LOG.warn("step {} artifacts not uploaded: the step's start was not delivered", i);
        return;
      }
    }
    int stored = artifacts.upload(i, step);
    LOG.info("step {}/{} ({}): {} artifact file(s) stored", i + 1, config.steps().size(), step.name(), stored);
  }

  /**
   * After the checkout step, before the job's own code runs: waits until the report API has applied the checkout's
   * end, from which on it no longer serves the repository's credential (docs/secrets.md#fetching). A later step may
   * run as root and read this agent's token; it must not find the credential still served.
   */
  private void awaitCheckoutEnded(ReportQueue.Entry entry) throws InterruptedException {
    long started = System.nanoTime();
    while (!entry.awaitFinishedDelivered(1000)) {
      if (stopping || !reporterThread.isAlive()) {
        LOG.warn("the checkout step's end was not delivered");
        return;
      }
    }
    LOG.info("checkout's end delivered after {} ms: the repository's credential is no longer served",
        (System.nanoTime() - started) / 1_000_000);
  }

  /** SIGTERM: kill the running step, give its report a few seconds to go out, and return. */
  void shutdown() {
    if (done) {
      return;
    }
    LOG.warn("terminating: killing the running step");
    stopping = true;
    try {
      runner.abort(SIGTERM_EXIT_CODE);
      reporterThread.join(SHUTDOWN_REPORT_TIME.toMillis());
      if (reporterThread.isAlive()) {
        LOG.warn("exiting with reports undelivered");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The secret environment of {@code step} (and its files written): fetched at the first step that needs any, and
   * from then on masked in every step's output. Never logs a value.
   */
  private Map<String, String> prepareSecrets(AgentStep step, OutputSpool spool)
      throws InterruptedException, IOException {
    if (!step.needsSecrets()) {
      if (secretFiles != null) {
        secretFiles.clear();
      }
      return Map.of();
    }
    if (secretValues == null) {
      long started = System.nanoTime();
      secretValues = secretSource.fetch();
      masks = SecretMasks.of(secretValues.values());
      LOG.info("fetched {} secret value(s) in {} ms", secretValues.size(), (System.nanoTime() - started) / 1_000_000);
    }
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (StepSecret s : step.secrets()) {
      byte[] value = secretValues.get(s.ref());
      if (value == null) {
        throw new SecretSource.Unavailable("the report API did not serve secret " + s.name() + " (" + s.ref() + ")");
      }
      if (SecretMasks.tooShort(value)) {
        writeNotice(spool, "nixek-agent: secret " + s.name() + " is shorter than " + SecretMasks.MIN_LENGTH
            + " bytes and is not masked in the output\n");
      }
      if (s.isFile()) {
        files.put(s.name(), value);
      } else {
        env.put(s.name(), new String(value, StandardCharsets.UTF_8));
      }
    }
    if (secretFiles == null) {
      if (!files.isEmpty()) {
        throw new SecretSource.Unavailable("this agent has no directory for secret files");
      }
    } else if (files.isEmpty()) {
      secretFiles.clear();
    } else {
      env.put(SECRETS_DIR_ENV, secretFiles.write(files).toString());
    }
    return env;
  }

  private static void writeNotice(OutputSpool spool, String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    try {
      spool.append(b, 0, b.length);
    } catch (IOException e) {
      LOG.warn("cannot write to the output spool: {}", e.toString());
    }
  }

  private void jobRefused() {
    stopping = true;
    try {
      runner.abort(EXIT_NOT_REPORTED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
