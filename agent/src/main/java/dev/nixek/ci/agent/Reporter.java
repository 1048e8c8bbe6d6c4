package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentEnded;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import dev.nixek.ci.protocol.TokenGrace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a job's reports strictly in order, one request in flight: step started, its output chunks, step
 * finished, then the next step. A transiently failed report is retried, byte for byte, until it is answered (the
 * report API treats a byte-identical replay as a duplicate), so a report is never skipped and never reordered; the
 * steps meanwhile go on, their output waiting in the spool. Runs on its own thread until every report of the
 * closed queue is delivered, the job or one report is refused, or the thread is interrupted (drain timeout,
 * shutdown). A refused report (409, 422, …) stops the job like a refused token: the reports after it could not be
 * applied, and the agent must not say "every report delivered".
 */
final class Reporter implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
  /** How long to wait, while a step runs, for a full chunk before sending what there is. */
  static final Duration FLUSH_INTERVAL = Duration.ofMillis(500);
  private static final long IDLE_WAIT_NANOS = Duration.ofMinutes(1).toNanos();

  /** How the reporter ended. */
  enum Outcome {
    RUNNING,
    /** Every report was answered. */
    DELIVERED,
    /** The API answered 401/403: the job is dead. */
    JOB_REFUSED,
    /** The API refused a report (409, 422, …): what follows it cannot be applied either. */
    REPORT_REFUSED,
    /** Interrupted with reports undelivered. */
    GAVE_UP
  }

  private final ReportClient client;
  private final ReportQueue queue;
  private final String namespace;
  private final String name;
  private final Supplier<Backoff> backoff;
  private final Runnable onJobRefused;
  private volatile Outcome outcome = Outcome.RUNNING;
  private volatile String refusal;
  private boolean accepted;
  private long firstAttemptNanos;
  private boolean attempted;

  Reporter(ReportClient client, ReportQueue queue, String namespace, String name, Supplier<Backoff> backoff,
      Runnable onJobRefused) {
    this.client = client;
    this.queue = queue;
    this.namespace = namespace;
    this.name = name;
    this.backoff = backoff;
    this.onJobRefused = onJobRefused;
  }

  Outcome outcome() {
    return outcome;
  }

  /** The refused report and the API's answer, once the outcome is {@link Outcome#REPORT_REFUSED}. */
  String refusal() {
    return refusal;
  }

  @Override
  public void run() {
    try {
      for (int i = 0; ; i++) {
        ReportQueue.Entry step = queue.await(i);
        if (step == null) {
          break;
        }
        deliver(step);
      }
      outcome = Outcome.DELIVERED;
    } catch (ReportRefused e) {
      refusal = e.path + " answered " + e.status + " " + e.detail;
      outcome = Outcome.REPORT_REFUSED;
      LOG.error("the report API refused report {} with {} ({}); the reports after it cannot be applied: stopping the "
          + "job", e.path, e.status, e.detail);
      onJobRefused.run();
    } catch (JobRefused e) {
      outcome = Outcome.JOB_REFUSED;
      LOG.error("the report API refused this job ({}: {}); it was cancelled, has ended or was deleted: stopping",
          e.status, e.detail);
      onJobRefused.run();
    } catch (InterruptedException e) {
      outcome = Outcome.GAVE_UP;
    } catch (IOException e) {
      outcome = Outcome.GAVE_UP;
      LOG.error("cannot read step output from the spool: {}", e.toString());
    }
  }

  private void deliver(ReportQueue.Entry step) throws InterruptedException, JobRefused, ReportRefused, IOException {
    int index = step.index;
    send(path(index, ReportPaths.STARTED), new StepStarted(step.name, step.startTime));
    step.markStarted();

    OutputSpool spool = step.spool;
    long offset = 0;
    long seq = 0;
    long flushNanos = FLUSH_INTERVAL.toNanos();
    long lastSend = System.nanoTime() - flushNanos;
    while (true) {
      spool.awaitSize(offset + OutputChunk.MAX_BYTES, lastSend + flushNanos);
      boolean sealed = spool.isSealed(); // read before size: once sealed, the size is final
      long pending = spool.size() - offset;
      if (pending == 0) {
        if (sealed) {
          break;
        }
        spool.awaitSize(offset + 1, System.nanoTime() + IDLE_WAIT_NANOS);
        continue;
      }
      if (pending < OutputChunk.MAX_BYTES && !sealed && System.nanoTime() - (lastSend + flushNanos) < 0) {
        continue; // woken early: let a partial chunk grow until the flush interval is up
      }
      int n = (int) Math.min(pending, OutputChunk.MAX_BYTES);
      byte[] data = spool.read(offset, n);
      send(path(index, ReportPaths.OUTPUT), new OutputChunk(seq, offset, Base64.getEncoder().encodeToString(data)));
      seq++;
      offset += n;
      lastSend = System.nanoTime();
    }

    StepFinished finished = step.awaitFinished();
    send(path(index, ReportPaths.FINISHED), finished);
    step.markFinished();
    spool.close();
  }

  /** Sends one report until it is answered; the body is serialized once, so every retry is byte-identical. */
  private void send(String path, Object report) throws InterruptedException, JobRefused, ReportRefused {
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(report);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Backoff delays = backoff.get();
    for (int attempt = 1; ; attempt++) {
      if (!attempted) {
        attempted = true;
        firstAttemptNanos = System.nanoTime();
      }
      ReportClient.Result result = client.post(path, body);
      switch (result.verdict()) {
        case DELIVERED -> {
          accepted = true;
          if (attempt > 1) {
            LOG.info("report API reachable again: {} delivered after {} attempts", path, attempt);
          }
          return;
        }
        case REJECTED -> throw new ReportRefused(path, result.status(), result.detail());
        case JOB_REFUSED -> {
          if (accepted || result.status() != 401
              || System.nanoTime() - firstAttemptNanos > TokenGrace.UNKNOWN_TOKEN.toNanos()) {
            throw new JobRefused(result.status(), result.detail());
          }
          // the report API may not have seen this job's token record yet (see TokenGrace)
          LOG.info("report {} answered 401 before any report was accepted ({}); retrying: the report API may not "
              + "know this job's token yet", path, result.detail());
          Thread.sleep(delays.next().toMillis());
        }
        case RETRY -> {
          Duration delay = result.delayAfter(delays);
          String why = result.status() == 0 ? result.detail() : "HTTP " + result.status() + " " + result.detail();
          if (attempt == 1 || attempt % 20 == 0) {
            LOG.warn("report {} not delivered (attempt {}: {}); retrying, output keeps spooling to disk", path,
                attempt, why);
          } else {
            LOG.debug("report {} not delivered (attempt {}: {})", path, attempt, why);
          }
          Thread.sleep(delay.toMillis());
        }
        default -> throw new IllegalStateException(result.verdict().toString());
      }
    }
  }

  /**
   * Tells the report API why the agent stops the job early ({@link AgentEnded}), so that the job's condition can say
   * it where the operator sees only a machine that went away (EC2). Best effort: retried on 5xx/408/429 and lost
   * connections for at most {@code within}, and never an error — the agent exits with {@code exitCode} either way.
   */
  void reportEnded(int exitCode, String reason, Duration within) throws InterruptedException {
    String path = ReportPaths.agentEnded(namespace, name);
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(new AgentEnded(exitCode, reason, Instant.now().toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.nanoTime() + within.toNanos();
    Backoff delays = backoff.get();
    while (true) {
      ReportClient.Result result = client.post(path, body);
      if (result.verdict() == ReportClient.Verdict.DELIVERED) {
        LOG.info("told the report API why the job stopped (exit code {})", exitCode);
        return;
      }
      Duration delay = result.delayAfter(delays);
      if (result.verdict() != ReportClient.Verdict.RETRY || System.nanoTime() + delay.toNanos() > deadline) {
        LOG.warn("could not tell the report API why the job stopped ({}: {})", result.status(), result.detail());
        return;
      }
      Thread.sleep(delay.toMillis());
    }
  }

  private String path(int index, String what) {
    return ReportPaths.step(namespace, name, index, what);
  }

  private static final class JobRefused extends Exception {
    final int status;
    final String detail;

    JobRefused(int status, String detail) {
      super(null, null, false, false);
      this.status = status;
      this.detail = detail;
    }
  }

  /** A report the API refused (not 401/403, not retryable): applying what follows it would be refused too. */
  private static final class ReportRefused extends Exception {
    final String path;
    final int status;
    final String detail;

    ReportRefused(String path, int status, String detail) {
      super(null, null, false, false);
      this.path = path;
      this.status = status;
      this.detail = detail;
    }
  }
}
