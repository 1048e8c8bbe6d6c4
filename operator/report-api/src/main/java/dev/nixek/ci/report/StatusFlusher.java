package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes acknowledged output to {@code status.steps} — outputTail, outputBytes, outputChunks, outputCutAtBytes — at
 * most once per interval per job ({@code NIXEK_REPORT_STATUS_INTERVAL_MILLIS}), however fast the steps print
 * (docs/logs.md#ingest-and-coalesced-status). A chunk is acknowledged once stored, so nothing depends on these
 * writes: one that fails is retried at the next interval, and one that finds the step ended (its final counts were
 * written with the state change) or the job gone writes nothing. A write never moves counts backwards, so two
 * replicas flushing one job, or a flush racing the step's end, cannot undo each other.
 *
 * <p>{@link #tick} is called often (a timer); it only picks the jobs that are due and hands each to the executor, one
 * write per job at a time. The clock is injected so tests can drive it.
 */
final class StatusFlusher {
  private static final Logger LOG = LoggerFactory.getLogger(StatusFlusher.class);
  /** Cursors idle this long (their output shown) are dropped; a later chunk rebuilds them from the store. */
  static final long IDLE_MILLIS = 10 * 60 * 1000L;

  private final StepCursors cursors;
  private final Writes writer;
  private final LogStore store;
  private final long intervalMillis;
  private final LongSupplier clockMillis;
  private final Map<JobLogs, Long> lastWrite = new ConcurrentHashMap<>();
  private final Set<JobLogs> inFlight = ConcurrentHashMap.newKeySet();

  /** How a flush writes: {@link StepsWriter#update} (tests count the writes). */
  @FunctionalInterface
  interface Writes {
    ReportOutcome update(String namespace, String name, Function<NixekJob, ReportOutcome> change);
  }

  StatusFlusher(StepCursors cursors, Writes writer, LogStore store, long intervalMillis,
      LongSupplier clockMillis) {
    this.cursors = cursors;
    this.writer = writer;
    this.store = store;
    this.intervalMillis = intervalMillis;
    this.clockMillis = clockMillis;
  }

  /** A state change of the job was written now (started, finished): the next flush is an interval later. */
  void wrote(JobLogs job) {
    lastWrite.put(job, clockMillis.getAsLong());
  }

  /** Hands every job that is due to {@code executor}; returns how many. */
  int tick(Executor executor) {
    long now = clockMillis.getAsLong();
    Map<JobLogs, List<StepCursor>> byJob = new LinkedHashMap<>();
    for (StepCursor c : cursors.dirty()) {
      byJob.computeIfAbsent(c.log.job(), j -> new ArrayList<>()).add(c);
    }
    int started = 0;
    for (Map.Entry<JobLogs, List<StepCursor>> e : byJob.entrySet()) {
      JobLogs job = e.getKey();
      Long last = lastWrite.get(job);
      if (last != null && now - last < intervalMillis || !inFlight.add(job)) {
        continue;
      }
      lastWrite.put(job, now);
      started++;
      executor.execute(() -> {
        try {
          flush(job, e.getValue());
        } finally {
          inFlight.remove(job);
        }
      });
    }
    cursors.evictIdle(IDLE_MILLIS);
    lastWrite.values().removeIf(t -> now - t > IDLE_MILLIS);
    return started;
  }

  /** One status write of the job's dirty steps (blocking); on failure they stay dirty for the next interval. */
  void flush(JobLogs job, List<StepCursor> steps) {
    List<StepCursor.Snapshot> snapshots = new ArrayList<>(steps.size());
    try {
      for (StepCursor c : steps) {
        synchronized (c) {
          if (c.tailStale) {
            // this replica missed chunks (another replica, a restart): the tail is what the store ends with
            ByteArrayOutputStream raw = new ByteArrayOutputStream(c.tailLimit);
            store.read(c.log, Math.max(0, c.storedBytes - c.tailLimit), c.tailLimit, raw);
            c.resetTail(raw.toByteArray());
          }
          c.dirty = false;
          snapshots.add(c.snapshot());
        }
      }
      writer.update(job.namespace(), job.jobName(), current -> apply(current, job.jobUid(), snapshots));
    } catch (IOException | RuntimeException e) {
      LOG.warn("status write of {}/{} failed, retrying in {} ms: {}", job.namespace(), job.jobName(), intervalMillis,
          e.toString());
      for (StepCursor c : steps) {
        synchronized (c) {
          c.dirty = !c.finished;
        }
      }
    }
  }

  /** The steps with the snapshots applied, or a duplicate when nothing would change (no write is made). */
  static ReportOutcome apply(NixekJob job, String uid, List<StepCursor.Snapshot> snapshots) {
    if (job == null || job.getMetadata() == null || !uid.equals(job.getMetadata().getUid())
        || job.getStatus() == null || job.getStatus().steps == null || Conditions.isTerminal(job.getStatus())) {
      return new ReportOutcome.Duplicate();
    }
    List<NixekStepStatus> steps = new ArrayList<>(job.getStatus().steps.size());
    for (NixekStepStatus s : job.getStatus().steps) {
      steps.add(StepReports.copy(s));
    }
    boolean changed = false;
    for (StepCursor.Snapshot snap : snapshots) {
      if (snap.index() >= steps.size() || !snap.tokenSha256().equals(job.getStatus().stepTokenSha256)) {
        // an earlier launch attempt's cursor: its counts are not the new attempt's
        continue;
      }
      NixekStepStatus s = steps.get(snap.index());
      long chunks = s.outputChunks == null ? 0 : s.outputChunks;
      long bytes = s.outputBytes == null ? 0 : s.outputBytes;
      // a step that ended has its final counts; another replica may be ahead: never go back
      if (s.state != State.Running || snap.chunks() < chunks || snap.bytes() < bytes
          || snap.chunks() == chunks && snap.bytes() == bytes) {
        continue;
      }
      s.outputChunks = snap.chunks();
      s.outputBytes = snap.bytes();
      s.outputCutAtBytes = snap.cutAt();
      if (snap.tail() != null) {
        s.outputTail = snap.tail();
      }
      changed = true;
    }
    return changed ? new ReportOutcome.Applied(steps) : new ReportOutcome.Duplicate();
  }
}
