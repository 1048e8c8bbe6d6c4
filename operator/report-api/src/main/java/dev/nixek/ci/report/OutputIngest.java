package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.EffectiveSteps;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredChunk;
import dev.nixek.ci.common.logs.StoredLog;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.OutputTail;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.OutputChunk;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Output chunks into the log store (docs/logs.md#ingest-and-coalesced-status). A chunk is acknowledged once
 * {@link LogStore#put} returned, and is checked against what the store holds, never against the status: {@code seq}
 * must be the next one and {@code offset} the stored byte count (409 otherwise); a stored {@code seq} sent again with
 * the same offset and bytes (SHA-256) is a duplicate, with other bytes a 409; a step that never started is 409, one
 * that ended takes only replays; a step that does not exist is 404; a malformed chunk 422.
 *
 * <p>The common case costs one store write: this replica's {@link StepCursor} knows the next seq and offset. The
 * store is read only when the chunk is not the one the cursor expects (another replica took the previous ones, a
 * restart, a replay of an older chunk), and the job is read (one GET) only when this replica has no cursor for the
 * step yet, or once the watch saw the job end. Blocking: run it on a worker, one report of a job at a time
 * ({@link PerJobQueue}).
 */
final class OutputIngest {
  private static final Logger LOG = LoggerFactory.getLogger(OutputIngest.class);
  private static final Duplicate DUPLICATE = new Duplicate();
  private static final Applied APPLIED = new Applied(List.of());

  private final LogStore store;
  private final StepCursors cursors;
  private final LogLimits limits;
  private final Function<TokenRecord, NixekJob> jobs;
  private final Predicate<TokenRecord> ended;
  private final int tailBytes;
  private final int tailBudgetBytes;

  OutputIngest(LogStore store, StepCursors cursors, LogLimits limits, Function<TokenRecord, NixekJob> jobs,
      Predicate<TokenRecord> ended, int tailBytes, int tailBudgetBytes) {
    this.ended = ended;
    this.store = store;
    this.cursors = cursors;
    this.limits = limits;
    this.jobs = jobs;
    this.tailBytes = tailBytes;
    this.tailBudgetBytes = tailBudgetBytes;
  }

  /** Checks, stores and acknowledges one chunk; the outcome's steps are unused (nothing is written to status). */
  ReportOutcome output(TokenRecord token, int index, OutputChunk chunk) {
    if (chunk.seq() < 0 || chunk.offset() < 0 || chunk.data() == null) {
      return Rejected.invalid("seq and offset must be >= 0 and data present");
    }
    byte[] data;
    try {
      data = Base64.getDecoder().decode(chunk.data());
    } catch (IllegalArgumentException e) {
      return Rejected.invalid("data is not base64");
    }
    if (data.length > OutputChunk.MAX_BYTES) {
      return Rejected.invalid("a chunk holds at most " + OutputChunk.MAX_BYTES + " bytes, this one " + data.length);
    }
    StepLog log = new StepLog(token.namespace(), token.jobName(), token.jobUid(), index);
    try {
      StepCursor c = cursors.get(log, token.sha256Hex());
      if (c != null && ended.test(token)) {
        // the watch saw the job end: the read below tells a replay (200) from a report too late (401)
        cursors.remove(log);
        c = null;
      }
      if (c == null) {
        Loaded loaded = load(token, index, log);
        if (loaded.rejected() != null) {
          return loaded.rejected();
        }
        c = loaded.cursor();
        if (loaded.jobEnded()) {
          // a replay is still acknowledged; anything else is refused as on every write to an ended job
          c.finished = true;
          ReportOutcome o = replay(c, chunk, data.length, sha256(data));
          return o instanceof Duplicate ? o : new Rejected(401, ReportWriter.TOKEN_REVOKED,
              "the job has finished; its token no longer accepts reports");
        }
        cursors.put(c);
      }
      return apply(c, chunk, data);
    } catch (IOException | java.io.UncheckedIOException e) {
      // the agent retries a 503 with the same bytes; nothing was acknowledged
      LOG.warn("log store failed for {} step {}: {}", token.jobKey(), index, e.toString());
      throw new ApiError(503, "log_store_unavailable", "the log store failed; retry later");
    }
  }

  private ReportOutcome apply(StepCursor c, OutputChunk chunk, byte[] data) throws IOException {
    String sha = sha256(data);
    if (c.finished) {
      return replay(c, chunk, data.length, sha);
    }
    synchronized (c) {
      if (chunk.seq() == c.lastSeq && chunk.offset() == c.lastOffset && sha.equals(c.lastSha256)) {
        return DUPLICATE;
      }
      if (chunk.seq() != c.nextSeq || chunk.offset() != c.nextOffset) {
        ReportOutcome answer = checkedByStore(c, chunk, data, sha);
        if (answer != null) {
          return answer;
        }
      }
    }
    return append(c, chunk, data, sha);
  }

  /**
   * The chunk is not the one this replica expected: asks the store. Returns null when the chunk is the next one to
   * store (the cursor caught up), else the answer.
   */
  private ReportOutcome checkedByStore(StepCursor c, OutputChunk chunk, byte[] data, String sha) throws IOException {
    StoredLog st = store.state(c.log);
    if (st.sealed()) {
      c.finished = true;
      return replay(c, chunk, data.length, sha);
    }
    c.resync(st.chunks(), st.bytes());
    if (c.cutAt == null && st.bytes() > c.limit) {
      c.cutAt = c.limit;
    }
    if (c.cutAt != null) {
      // nothing after the cut is stored, so the store cannot tell offsets past it: only seq is checked
      if (chunk.seq() < st.chunks() - 1) {
        return replay(c, chunk, data.length, sha);
      }
      if (chunk.seq() < c.nextSeq) {
        return DUPLICATE;
      }
      c.nextSeq = chunk.seq();
      c.nextOffset = chunk.offset();
      return null;
    }
    if (chunk.seq() < st.chunks()) {
      return replay(c, chunk, data.length, sha);
    }
    String step = StepNames.quote(c.log.jobName()) + " step " + c.log.stepIndex();
    if (chunk.seq() > st.chunks()) {
      return Rejected.conflict("chunk " + chunk.seq() + " of " + step + " arrived before chunk " + st.chunks());
    }
    if (chunk.offset() != st.bytes()) {
      return Rejected.conflict("chunk " + chunk.seq() + " of " + step + " starts at byte " + chunk.offset()
          + ", but " + st.bytes() + " bytes were stored");
    }
    return null;
  }

  /** Stores the next chunk (cut at the limit, with the marker) and advances the cursor. */
  private ReportOutcome append(StepCursor c, OutputChunk chunk, byte[] data, String sha) throws IOException {
    byte[] stored = null;
    boolean cutHere = false;
    if (c.cutAt == null) {
      long room = c.limit - c.storedBytes;
      if (data.length <= room) {
        stored = data;
      } else {
        cutHere = true;
        byte[] marker = LogLimits.marker(c.limit, c.limitOption);
        stored = new byte[(int) Math.max(0, room) + marker.length];
        System.arraycopy(data, 0, stored, 0, (int) Math.max(0, room));
        System.arraycopy(marker, 0, stored, (int) Math.max(0, room), marker.length);
      }
      try {
        store.put(c.log, chunk.seq(), c.storedBytes, stored);
      } catch (IOException | RuntimeException e) {
        // sealed meanwhile (another replica applied the step's end)? then this is a late chunk, not an outage
        StoredLog st = store.state(c.log);
        if (st.sealed()) {
          c.finished = true;
          return replay(c, chunk, data.length, sha);
        }
        throw e;
      }
    }
    synchronized (c) {
      if (stored != null) {
        c.appendTail(stored, 0, stored.length);
        c.storedBytes += stored.length;
      }
      if (cutHere) {
        c.cutAt = c.limit;
        LOG.info("output of {}/{} step {} cut at {} bytes ({})", c.log.namespace(), c.log.jobName(),
            c.log.stepIndex(), c.limit, c.limitOption);
      }
      c.lastSeq = chunk.seq();
      c.lastOffset = chunk.offset();
      c.lastSha256 = sha;
      c.nextSeq = chunk.seq() + 1;
      c.nextOffset = chunk.offset() + data.length;
      c.dirty = true;
    }
    return APPLIED;
  }

  /** A seq that is stored (or a step that ended): a duplicate only byte for byte, else 409. */
  private ReportOutcome replay(StepCursor c, OutputChunk chunk, int length, String sha) throws IOException {
    Optional<StoredChunk> stored = store.chunk(c.log, chunk.seq());
    String step = StepNames.quote(c.log.jobName()) + " step " + c.log.stepIndex();
    if (stored.isEmpty()) {
      if (c.finished) {
        return Rejected.conflict(step + " already finished; it has no chunk " + chunk.seq());
      }
      // cut: a chunk after the cut is not stored, and the agent sends it again only as it was
      return DUPLICATE;
    }
    StoredChunk s = stored.get();
    if (s.offset() == chunk.offset() && s.length() == length && s.sha256().equals(sha)) {
      return DUPLICATE;
    }
    if (c.cutAt != null && s.offset() == chunk.offset() && s.end() > c.limit) {
      // the chunk that was cut: the store holds its head and the marker, not the bytes the agent sent
      return DUPLICATE;
    }
    return Rejected.conflict("chunk " + chunk.seq() + " of " + step + " was stored with other bytes: a chunk may be "
        + "sent again only byte for byte");
  }

  /** A cursor for a step this replica has none of, from one read of the job and one of the store. */
  private Loaded load(TokenRecord token, int index, StepLog log) throws IOException {
    NixekJob job = jobs.apply(token);
    Optional<Rejected> superseded = token.supersededIn(job);
    if (superseded.isPresent()) {
      return Loaded.refused(superseded.get());
    }
    if (job == null) {
      return Loaded.refused(new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job of this token no longer exists"));
    }
    if (job.getMetadata() == null || !token.jobUid().equals(job.getMetadata().getUid())) {
      return Loaded.refused(new Rejected(401, ReportWriter.TOKEN_REVOKED,
          "the job of this token was deleted (a job of the same name replaced it)"));
    }
    List<NixekJobStep> spec = EffectiveSteps.orEmpty(job);
    if (index >= spec.size()) {
      return Loaded.refused(new Rejected(404, "unknown_step", "the job has " + spec.size()
          + " steps; there is no step " + index));
    }
    List<NixekStepStatus> steps = job.getStatus() == null ? null : job.getStatus().steps;
    State state = steps == null || steps.size() != spec.size() || steps.get(index).state == null ? State.Pending
        : steps.get(index).state;
    boolean ended = Conditions.isTerminal(job.getStatus());
    if (state == State.Pending || state == State.Skipped) {
      return Loaded.refused(ended
          ? new Rejected(401, ReportWriter.TOKEN_REVOKED, "the job has finished; its token no longer accepts reports")
          : Rejected.conflict("step " + StepNames.quote(spec.get(index).name) + " is " + state + ": it has no output"));
    }
    int tailLimit = OutputTail.limitFor(spec.size(), tailBytes, tailBudgetBytes);
    long before = StepCursors.storedBefore(steps, index);
    StepCursor c = new StepCursor(log, token.sha256Hex(), before, limits, tailLimit);
    StoredLog st = store.state(log);
    c.nextSeq = st.chunks();
    c.nextOffset = st.bytes();
    c.storedBytes = st.bytes();
    c.tailStale = st.bytes() > 0;
    if (st.bytes() > c.limit) {
      c.cutAt = c.limit;
      Long produced = steps.get(index).outputBytes;
      c.nextOffset = Math.max(c.limit, produced == null ? 0 : produced);
    }
    c.finished = state != State.Running || st.sealed();
    return new Loaded(c, null, ended);
  }

  private record Loaded(StepCursor cursor, Rejected rejected, boolean jobEnded) {
    static Loaded refused(Rejected r) {
      return new Loaded(null, r, false);
    }
  }

  /** The SHA-256 of {@code data}, lower-case hex, as {@link StoredChunk#sha256} has it. */
  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
