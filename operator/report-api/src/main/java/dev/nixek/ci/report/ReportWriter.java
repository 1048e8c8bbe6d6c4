package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredLog;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.OutputTail;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.status.StepsWriter;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Applies a step's state changes — started, finished — to its job's {@code status.steps} at once, by
 * read-modify-write (blocking). A token is dead once its job is gone, was replaced by another job of the same name,
 * or has ended (docs/architecture.md#token-protocol); a report that would change nothing on a finished job (a
 * replay) is still acknowledged.
 *
 * <p>{@code finished} takes the step's final output counts and tail from the log store, not from the (coalesced)
 * status: the agent's byte count must equal what the store holds (docs/logs.md#ingest-and-coalesced-status), and the
 * same write that ends the step carries them, so the status of an ended step is exact.
 */
final class ReportWriter {
  static final String TOKEN_REVOKED = "token_revoked";

  private final StepsWriter writer;
  private final int tailBytes;
  private final int tailBudgetBytes;
  private final ApiHealth health;
  private final LogStore store;
  private final StepCursors cursors;
  private final LogLimits limits;
  private final StatusFlusher flusher;

  ReportWriter(StepsWriter writer, int tailBytes, int tailBudgetBytes, ApiHealth health, LogStore store,
      StepCursors cursors, LogLimits limits, StatusFlusher flusher) {
    this.writer = writer;
    this.tailBytes = tailBytes;
    this.tailBudgetBytes = tailBudgetBytes;
    this.health = health;
    this.store = store;
    this.cursors = cursors;
    this.limits = limits;
    this.flusher = flusher;
  }

  /** Step {@code index} started: written at once; this replica then knows the step (a cursor at seq 0). */
  ReportOutcome started(TokenRecord token, int index, StepStarted report) {
    AtomicReference<NixekJob> read = new AtomicReference<>();
    ReportOutcome outcome = write(token, index, report, (spec, steps, i, r, tailLimit) ->
        StepReports.started(spec, steps, i, r), read);
    if (outcome instanceof Applied applied) {
      List<NixekJobStep> spec = EffectiveSteps.orEmpty(read.get());
      StepCursor c = new StepCursor(token.step(index), token.sha256Hex(), StepCursors.storedBefore(applied.steps(), index), limits,
          OutputTail.limitFor(spec.size(), tailBytes, tailBudgetBytes));
      cursors.put(c);
      flusher.wrote(token.step(index).job());
    }
    return outcome;
  }

  /**
   * Step {@code index} finished: checks the agent's byte count against the store and writes the state with the
   * final counts and tail. The caller seals the log afterwards ({@link #seal}) for an applied or duplicate outcome.
   */
  ReportOutcome finished(TokenRecord token, int index, StepFinished report) throws IOException {
    StepLog log = token.step(index);
    // read before the status write: every chunk acknowledged before this report is in it
    StoredLog stored = store.state(log);
    StepCursor cursor = cursors.get(log, token.sha256Hex());
    Long cursorCut;
    long cursorChunks;
    byte[] raw = null;
    String cursorTail = null;
    if (cursor != null) {
      synchronized (cursor) {
        cursorCut = cursor.cutAt;
        cursorChunks = cursor.nextSeq;
        if (!cursor.tailStale && cursor.storedBytes == stored.bytes()) {
          cursorTail = cursor.tailText();
        }
      }
    } else {
      cursorCut = null;
      cursorChunks = 0;
    }
    if (cursorTail == null) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(tailBytes);
      store.read(log, Math.max(0, stored.bytes() - tailBytes), tailBytes, out);
      raw = out.toByteArray();
    }
    byte[] tailRaw = raw;
    String tail = cursorTail;
    ReportOutcome outcome = write(token, index, report, (spec, steps, i, r, tailLimit) -> {
      List<NixekStepStatus> current = steps;
      if (steps != null && steps.size() == spec.size() && i < steps.size() && steps.get(i).state == State.Running) {
        current = new ArrayList<>(steps.size());
        for (NixekStepStatus s : steps) {
          current.add(StepReports.copy(s));
        }
        finalOutput(current, i, r, stored, cursorCut, cursorChunks, tail != null ? tail
            : StepCursor.tailText(tailRaw, tailLimit));
      }
      return StepReports.finished(spec, current, i, r);
    }, new AtomicReference<>());
    if (outcome instanceof Applied || outcome instanceof Duplicate) {
      if (cursor != null) {
        synchronized (cursor) {
          cursor.finished = true;
          cursor.dirty = false;
        }
      }
      flusher.wrote(log.job());
    }
    return outcome;
  }

  /**
   * Puts the step's final output into its status before {@code StepReports.finished} compares the agent's count:
   * the stored bytes, or, for a cut log, what the agent says it produced (nothing past the cut is stored to count).
   */
  private void finalOutput(List<NixekStepStatus> steps, int index, StepFinished report, StoredLog stored,
      Long cursorCut, long cursorChunks, String tail) {
    NixekStepStatus s = steps.get(index);
    long limit = limits.forStep(StepCursors.storedBefore(steps, index));
    s.outputChunks = Math.max(stored.chunks(), cursorChunks);
    if (cursorCut != null || stored.bytes() > limit) {
      s.outputCutAtBytes = limit;
      s.outputBytes = report.outputBytes() >= limit ? report.outputBytes() : Math.max(limit, stored.bytes());
    } else {
      s.outputCutAtBytes = null;
      s.outputBytes = stored.bytes();
    }
    s.outputTail = tail;
  }

  /** Compacts an ended step's log; this replica forgets the step. Idempotent. */
  void seal(TokenRecord token, int index) throws IOException {
    StepLog log = token.step(index);
    store.seal(log);
    cursors.remove(log);
  }

  /** Reads, decides and (if the report changes something) writes; returns once the write stuck. */
  <T> ReportOutcome write(TokenRecord token, int index, T report, StepChange<T> change,
      AtomicReference<NixekJob> read) {
    ReportOutcome outcome = writer.update(token.namespace(), token.jobName(), job -> {
      read.set(job);
      return token.supersededIn(job).<ReportOutcome>map(r -> r)
          .orElseGet(() -> decide(job, token.jobUid(), index, report, change, tailBytes, tailBudgetBytes));
    });
    health.reachable();
    return outcome;
  }

  /** What the report comes to on this job (null: gone); pure, as {@link StepsWriter} may call it again. */
  static <T> ReportOutcome decide(NixekJob job, String tokenJobUid, int index, T report, StepChange<T> change,
      int tailBytes, int tailBudgetBytes) {
    if (job == null) {
      return new Rejected(401, TOKEN_REVOKED, "the job of this token no longer exists");
    }
    if (job.getMetadata() == null || !tokenJobUid.equals(job.getMetadata().getUid())) {
      return new Rejected(401, TOKEN_REVOKED, "the job of this token was deleted (a job of the same name replaced it)");
    }
    // the job's steps whatever its form: spec.steps, or the recorded evaluation's
    List<NixekJobStep> spec = EffectiveSteps.orEmpty(job);
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    int tailLimit = OutputTail.limitFor(spec.size(), tailBytes, tailBudgetBytes);
    // StepReports works on copies, so applying to a finished job only tells whether the report is a replay
    ReportOutcome outcome = change.apply(spec, steps, index, report, tailLimit);
    if (Conditions.isTerminal(job.getStatus()) && !(outcome instanceof Duplicate)) {
      return new Rejected(401, TOKEN_REVOKED, "the job has finished; its token no longer accepts reports");
    }
    return outcome;
  }
}
