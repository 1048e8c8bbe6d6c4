package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Properties of the step-report rules ({@link StepReports}), as the report API sees them over an unreliable network:
 * an agent's reports arrive duplicated, reordered, replayed after a restart. Whatever arrives, the job's steps are
 * always what applying some prefix of the agent's reports in order gives (so they never go backwards: no state,
 * byte count or chunk count decreases, no time changes once set), and once the agent has retried everything, they
 * are exactly what in-order application gives.
 *
 * <p>Only the agent's own reports are delivered (replays are byte-identical); a report that contradicts them is
 * StepReportsTest's business.
 */
class StepReportsPropertyTest {
  /** Small, so that chunks overflow the tail and the tail's truncation is part of every comparison. */
  private static final int TAIL_LIMIT = 64;
  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  /** One report of the agent, applicable to a status. */
  sealed interface Report {
    ReportOutcome applyTo(List<NixekJobStep> spec, List<NixekStepStatus> current);
  }

  record Started(int index, StepStarted report) implements Report {
    @Override
    public ReportOutcome applyTo(List<NixekJobStep> spec, List<NixekStepStatus> current) {
      return StepReports.started(spec, current, index, report);
    }
  }

  /**
   * An output chunk, as the report API's ingest applies it (report-api's ChunkReplayTest tests the real one): checked
   * against the log store, whose counts are the step's {@code outputBytes}/{@code outputChunks} once it ends. The
   * store keeps every chunk, so any stored seq sent again byte for byte is a duplicate.
   */
  record Output(int index, OutputChunk chunk) implements Report {
    @Override
    public ReportOutcome applyTo(List<NixekJobStep> spec, List<NixekStepStatus> current) {
      if (current == null || current.get(index).state == State.Pending) {
        return Rejected.conflict("step " + index + " has no output");
      }
      NixekStepStatus step = current.get(index);
      long chunks = step.outputChunks == null ? 0 : step.outputChunks;
      long bytes = step.outputBytes == null ? 0 : step.outputBytes;
      if (chunk.seq() < chunks) {
        return new ReportOutcome.Duplicate();
      }
      if (step.state != State.Running || chunk.seq() > chunks || chunk.offset() != bytes) {
        return Rejected.conflict("out of order");
      }
      List<NixekStepStatus> next = new ArrayList<>();
      current.forEach(s -> next.add(StepReports.copy(s)));
      byte[] data = Base64.getDecoder().decode(chunk.data());
      next.get(index).outputChunks = chunks + 1;
      next.get(index).outputBytes = bytes + data.length;
      next.get(index).outputTail = OutputTail.append(step.outputTail, data, TAIL_LIMIT);
      return new Applied(next);
    }
  }

  record Finished(int index, StepFinished report) implements Report {
    @Override
    public ReportOutcome applyTo(List<NixekJobStep> spec, List<NixekStepStatus> current) {
      return StepReports.finished(spec, current, index, report);
    }
  }

  /** A job's steps and what its agent reported, in the order it sent it. */
  record Run(List<NixekJobStep> spec, List<Report> reports) {}

  /** A run, and the order the report API received its reports in: indices into {@code run.reports}. */
  record Delivery(Run run, List<Integer> arrivals) {}

  /** Every report of the run, in order, is applied: the generator makes only runs the rules accept. */
  @Property
  void theAgentsOwnOrderIsAlwaysApplied(@ForAll("runs") Run run) {
    List<NixekStepStatus> status = null;
    for (Report r : run.reports()) {
      ReportOutcome o = r.applyTo(run.spec(), status);
      assertThat(o).as("%s after %s", r, view(status)).isInstanceOf(Applied.class);
      status = ((Applied) o).steps();
    }
  }

  /**
   * After any arrivals — duplicated, reordered, some never — the status is the in-order application of a prefix of
   * the run; a refused or duplicate report changes nothing.
   */
  @Property
  void anyArrivalsLeaveTheStatusOfAPrefixOfTheRun(@ForAll("deliveries") Delivery d) {
    List<List<StepView>> prefixes = prefixStates(d.run());
    List<NixekStepStatus> status = null;
    for (int i : d.arrivals()) {
      Report r = d.run().reports().get(i);
      ReportOutcome o = r.applyTo(d.run().spec(), status);
      if (o instanceof Applied a) {
        assertThat(view(a.steps())).as("applied %s", r).isNotEqualTo(view(status));
        status = a.steps();
      } else if (o instanceof Rejected rejected) {
        // out of order (a gap) or for a step that cannot take it yet: a conflict, never "bad report"
        assertThat(rejected.httpStatus()).as("%s: %s", r, rejected.message()).isEqualTo(409);
      }
      assertThat(prefixes).as("status after %s", r).contains(view(status));
    }
  }

  /** Whatever arrived, per step, nothing goes backwards from one arrival to the next. */
  @Property
  void nothingEverGoesBackwards(@ForAll("deliveries") Delivery d) {
    List<NixekStepStatus> status = null;
    List<StepView> before = view(status, d.run().spec().size());
    for (int i : d.arrivals()) {
      ReportOutcome o = d.run().reports().get(i).applyTo(d.run().spec(), status);
      if (o instanceof Applied a) {
        status = a.steps();
      }
      List<StepView> after = view(status, d.run().spec().size());
      for (int s = 0; s < after.size(); s++) {
        StepView was = before.get(s);
        StepView is = after.get(s);
        assertThat(rank(is.state())).as("step %d state %s -> %s", s, was.state(), is.state())
            .isGreaterThanOrEqualTo(rank(was.state()));
        assertThat(is.outputBytes()).as("step %d bytes", s).isGreaterThanOrEqualTo(was.outputBytes());
        assertThat(is.outputChunks()).as("step %d chunks", s).isGreaterThanOrEqualTo(was.outputChunks());
        if (was.startTime() != null) {
          assertThat(is.startTime()).as("step %d startTime", s).isEqualTo(was.startTime());
        }
        if (was.finishTime() != null) {
          assertThat(is.finishTime()).as("step %d finishTime", s).isEqualTo(was.finishTime());
          assertThat(is.exitCode()).as("step %d exitCode", s).isEqualTo(was.exitCode());
        }
      }
      before = after;
    }
  }

  /**
   * Any arrivals followed by the agent retrying every report in order (what it does until each is acknowledged)
   * end in exactly the in-order application. Every retry is applied or acknowledged as a duplicate: the log store
   * keeps every chunk, so any chunk sent again byte for byte is known.
   */
  @Property
  void retriesAfterAnyArrivalsConvergeOnTheInOrderStatus(@ForAll("deliveries") Delivery d) {
    List<NixekStepStatus> status = null;
    for (int i : d.arrivals()) {
      ReportOutcome o = d.run().reports().get(i).applyTo(d.run().spec(), status);
      if (o instanceof Applied a) {
        status = a.steps();
      }
    }
    for (Report r : d.run().reports()) {
      ReportOutcome o = r.applyTo(d.run().spec(), status);
      assertThat(o).as("retry %s after %s", r, view(status)).isNotInstanceOf(Rejected.class);
      if (o instanceof Applied a) {
        status = a.steps();
      }
    }
    List<List<StepView>> prefixes = prefixStates(d.run());
    assertThat(view(status)).isEqualTo(prefixes.get(prefixes.size() - 1));
  }

  // ------------------------------------------------------------------------------------------------ generators

  @Provide
  Arbitrary<Run> runs() {
    Arbitrary<Integer> stepCount = Arbitraries.integers().between(1, 4);
    return stepCount.flatMap(n -> Combinators.combine(
        Arbitraries.integers().between(0, n - 1),          // the last step the agent got to
        Arbitraries.of(Ending.values()),                   // how that step ended
        chunkSizes().list().ofSize(n),                     // each step's chunks
        Arbitraries.integers().between(1, 3))              // exit code of a failure
        .as((last, ending, chunks, exit) -> run(n, last, ending, chunks, exit)));
  }

  @Provide
  Arbitrary<Delivery> deliveries() {
    return runs().flatMap(run -> Arbitraries.integers().between(0, run.reports().size() - 1).list()
        .ofMaxSize(3 * run.reports().size()).map(arrivals -> new Delivery(run, arrivals)));
  }

  /** Per step, 0 to 4 chunks of 1 to 100 bytes, each byte any value (control characters and invalid UTF-8 too). */
  private static Arbitrary<List<byte[]>> chunkSizes() {
    return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(100).list().ofMaxSize(4);
  }

  /** How the last step the agent got to ended. */
  enum Ending { SUCCEEDED, FAILED, TIMED_OUT, STILL_RUNNING }

  private static Run run(int n, int last, Ending ending, List<List<byte[]>> chunks, int exitCode) {
    List<NixekJobStep> spec = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      NixekJobStep s = new NixekJobStep();
      s.name = "step " + i;
      s.run = "true";
      spec.add(s);
    }
    List<Report> reports = new ArrayList<>();
    for (int i = 0; i <= last; i++) {
      reports.add(new Started(i, new StepStarted(spec.get(i).name, T0.plusSeconds(10L * i).toString())));
      long offset = 0;
      List<byte[]> own = chunks.get(i);
      for (int c = 0; c < own.size(); c++) {
        reports.add(new Output(i, new OutputChunk(c, offset, Base64.getEncoder().encodeToString(own.get(c)))));
        offset += own.get(c).length;
      }
      String finish = T0.plusSeconds(10L * i + 5).toString();
      Ending e = i < last ? Ending.SUCCEEDED : ending;
      switch (e) {
        case SUCCEEDED -> reports.add(new Finished(i, new StepFinished(0, finish, offset, false)));
        case FAILED -> reports.add(new Finished(i, new StepFinished(exitCode, finish, offset, false)));
        case TIMED_OUT -> reports.add(new Finished(i, new StepFinished(137, finish, offset, true)));
        case STILL_RUNNING -> { }
      }
    }
    return new Run(List.copyOf(spec), List.copyOf(reports));
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** The status after each prefix of the run applied in order, the empty prefix (no status yet) first. */
  private static List<List<StepView>> prefixStates(Run run) {
    List<List<StepView>> out = new ArrayList<>();
    List<NixekStepStatus> status = null;
    out.add(view(status));
    for (Report r : run.reports()) {
      status = ((Applied) r.applyTo(run.spec(), status)).steps();
      out.add(view(status));
    }
    return out;
  }

  /** One step's status as a value (NixekStepStatus has no equals). */
  record StepView(String name, State state, Integer exitCode, Boolean timedOut, String startTime, String finishTime,
      String outputTail, long outputBytes, long outputChunks) {}

  private static List<StepView> view(List<NixekStepStatus> steps) {
    if (steps == null) {
      return null;
    }
    return steps.stream().map(s -> new StepView(s.name, s.state, s.exitCode, s.timedOut, s.startTime, s.finishTime,
        s.outputTail, s.outputBytes == null ? 0 : s.outputBytes, s.outputChunks == null ? 0 : s.outputChunks))
        .toList();
  }

  /** As {@link #view(List)}, with no status yet read as every step Pending. */
  private static List<StepView> view(List<NixekStepStatus> steps, int n) {
    if (steps != null) {
      return view(steps);
    }
    List<StepView> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      pending.add(new StepView(null, State.Pending, null, null, null, null, null, 0, 0));
    }
    return pending;
  }

  /** Pending first; Skipped and the finished states are final. */
  private static int rank(State s) {
    return switch (s) {
      case Pending -> 0;
      case Running -> 1;
      case Succeeded, Failed, Skipped -> 2;
    };
  }
}
