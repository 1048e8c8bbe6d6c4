package dev.nixek.ci.report;

import static dev.nixek.ci.report.IngestFixture.chunk;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Coalesced status writes with a fake clock: at most one per interval per job, never backwards, retried on failure. */
class StatusFlusherTest {
  private static final LogLimits NO_LIMIT = new LogLimits(1L << 40, 1L << 40);
  private final IngestFixture f = new IngestFixture(2).running(0);
  private final StepCursors cursors = f.cursors();
  private final OutputIngest ingest = f.replica(cursors, NO_LIMIT);
  private final AtomicInteger writes = new AtomicInteger();
  private final AtomicBoolean failing = new AtomicBoolean();

  /** The API server: applies the change to the fixture's job and counts the writes it makes. */
  private final StatusFlusher.Writes server = (ns, name, change) -> {
    if (failing.get()) {
      throw new IllegalStateException("API server unreachable");
    }
    ReportOutcome o = change.apply(f.job);
    if (o instanceof Applied a) {
      f.job.getStatus().steps = a.steps();
      writes.incrementAndGet();
    }
    return o;
  };
  private final StatusFlusher flusher = new StatusFlusher(cursors, server, f.store, 1000, f.clock::get);

  @Test
  void aStepPrintingForTwentySecondsIsWrittenAtMostOncePerSecond() {
    long seq = 0;
    // a chunk every 2 ms and a tick every 10 ms, for 20 s of fake time
    for (int ms = 0; ms < 20_000; ms += 2) {
      f.clock.addAndGet(2);
      ingest.output(f.token, 0, chunk(seq, seq, "x"));
      seq++;
      if (ms % 10 == 0) {
        flusher.tick(Runnable::run);
      }
    }
    assertThat(writes.get()).isBetween(19, 20);
    NixekStepStatus s = f.job.getStatus().steps.get(0);
    assertThat(s.outputChunks).isBetween(seq - 1000, seq);
    assertThat(s.outputBytes).isEqualTo(s.outputChunks);
    assertThat(s.outputTail).isNotEmpty().matches("x+");
  }

  @Test
  void aQuietStepIsNotWrittenAndAStateChangePushesTheNextFlushBack() {
    flusher.tick(Runnable::run);
    assertThat(writes.get()).isZero();
    ingest.output(f.token, 0, chunk(0, 0, "a"));
    flusher.wrote(f.token.step(0).job());
    f.clock.addAndGet(999);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).isZero();
    f.clock.addAndGet(1);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).isEqualTo(1);
    flusher.tick(Runnable::run);
    f.clock.addAndGet(5000);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).as("nothing new, nothing written").isEqualTo(1);
  }

  @Test
  void aFailedWriteIsRetriedAtTheNextInterval() {
    ingest.output(f.token, 0, chunk(0, 0, "a"));
    failing.set(true);
    f.clock.addAndGet(1000);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).isZero();
    failing.set(false);
    f.clock.addAndGet(500);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).as("not before the interval").isZero();
    f.clock.addAndGet(500);
    flusher.tick(Runnable::run);
    assertThat(writes.get()).isEqualTo(1);
    assertThat(f.job.getStatus().steps.get(0).outputBytes).isEqualTo(1);
  }

  @Test
  void aFlushNeverMovesCountsBackNorTouchesAnEndedStep() {
    List<NixekStepStatus> steps = new ArrayList<>(f.job.getStatus().steps);
    steps.get(0).outputChunks = 10L;
    steps.get(0).outputBytes = 100L;
    steps.get(0).outputTail = "ahead";
    // another replica is ahead
    ReportOutcome o = StatusFlusher.apply(f.job, IngestFixture.UID,
        List.of(new StepCursor.Snapshot(0, f.token.sha256Hex(), 5, 50, null, "behind")));
    assertThat(o).isInstanceOf(ReportOutcome.Duplicate.class);
    o = StatusFlusher.apply(f.job, IngestFixture.UID, List.of(
        new StepCursor.Snapshot(0, f.token.sha256Hex(), 11, 110, null, "new")));
    assertThat(((Applied) o).steps().get(0).outputTail).isEqualTo("new");
    // an earlier launch attempt's cursor (the job was retried since) writes nothing into the new attempt's status
    assertThat(StatusFlusher.apply(f.job, IngestFixture.UID, List.of(
        new StepCursor.Snapshot(0, "0".repeat(64), 20, 200, null, "old attempt"))))
        .isInstanceOf(ReportOutcome.Duplicate.class);
    steps.get(0).state = State.Succeeded;
    o = StatusFlusher.apply(f.job, IngestFixture.UID, List.of(
        new StepCursor.Snapshot(0, f.token.sha256Hex(), 12, 120, null, "late")));
    assertThat(o).isInstanceOf(ReportOutcome.Duplicate.class);
    assertThat(StatusFlusher.apply(f.job, "another-uid", List.of(
        new StepCursor.Snapshot(0, f.token.sha256Hex(), 12, 120, null, "x"))))
        .isInstanceOf(ReportOutcome.Duplicate.class);
  }

  @Test
  void theTailOfAStepThisReplicaMissedIsReadFromTheStore() {
    OutputIngest other = f.replica(f.cursors(), NO_LIMIT);
    ingest.output(f.token, 0, chunk(0, 0, "one "));
    other.output(f.token, 0, chunk(1, 4, "two "));
    ingest.output(f.token, 0, chunk(2, 8, "three"));
    f.clock.addAndGet(1000);
    flusher.tick(Runnable::run);
    NixekStepStatus s = f.job.getStatus().steps.get(0);
    assertThat(s.outputTail).isEqualTo("one two three");
    assertThat(s.outputBytes).isEqualTo(13);
    assertThat(s.outputChunks).isEqualTo(3);
  }
}
