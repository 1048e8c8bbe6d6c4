package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Applies one agent report to a job's {@code status.steps}: pure, so that the report API can retry it against a
 * fresh read after a 409 and get the same answer.
 *
 * <p>Rules (docs/architecture.md#report-protocol): steps run in order and never move backwards; a replay of an applied
 * report is a {@link Duplicate}; anything that contradicts what was applied is a 409; a report for a step that does
 * not exist is a 404; a report that cannot be right whatever the state is a 422. Output chunks are not status
 * changes: the report API checks them against the log store (docs/logs.md#ingest-and-coalesced-status), and
 * {@link #finished} compares the agent's byte count with the {@code outputBytes} the caller put in the step from
 * the store.
 */
public final class StepReports {
  private static final Duplicate DUPLICATE = new Duplicate();

  private StepReports() {}

  /** The steps list before any report: every step Pending. */
  public static List<NixekStepStatus> initial(List<NixekJobStep> spec) {
    List<NixekStepStatus> out = new ArrayList<>(spec.size());
    for (NixekJobStep s : spec) {
      NixekStepStatus st = new NixekStepStatus();
      st.name = s.name;
      st.state = State.Pending;
      out.add(st);
    }
    return out;
  }

  /** Step {@code index} started. */
  public static ReportOutcome started(List<NixekJobStep> spec, List<NixekStepStatus> current, int index,
      StepStarted report) {
    Rejected bad = checkIndex(spec, index);
    if (bad != null) {
      return bad;
    }
    if (report.name() == null || !report.name().equals(spec.get(index).name)) {
      return Rejected.invalid("step " + index + " is named " + StepNames.quote(spec.get(index).name) + ", not "
          + StepNames.quote(report.name()));
    }
    if (!isTimestamp(report.startTime())) {
      return Rejected.invalid("startTime must be an RFC 3339 timestamp");
    }
    List<NixekStepStatus> steps = copyOrInitial(spec, current);
    NixekStepStatus step = steps.get(index);
    if (step.state != State.Pending) {
      return report.startTime().equals(step.startTime) ? DUPLICATE
          : Rejected.conflict("step " + StepNames.quote(step.name) + " already started at " + step.startTime
              + " and is " + step.state);
    }
    for (int i = 0; i < index; i++) {
      if (steps.get(i).state != State.Succeeded) {
        return Rejected.conflict("step " + StepNames.quote(step.name) + " cannot start: step "
            + StepNames.quote(steps.get(i).name) + " is " + steps.get(i).state);
      }
    }
    step.state = State.Running;
    step.startTime = report.startTime();
    step.outputBytes = 0L;
    step.outputChunks = 0L;
    return new Applied(steps);
  }

  /** Step {@code index} finished; a failure marks every later step Skipped. */
  public static ReportOutcome finished(List<NixekJobStep> spec, List<NixekStepStatus> current, int index,
      StepFinished report) {
    Rejected bad = checkIndex(spec, index);
    if (bad != null) {
      return bad;
    }
    if (!isTimestamp(report.finishTime()) || report.outputBytes() < 0) {
      return Rejected.invalid("finishTime must be an RFC 3339 timestamp and outputBytes >= 0");
    }
    List<NixekStepStatus> steps = copyOrInitial(spec, current);
    NixekStepStatus step = steps.get(index);
    State result = report.exitCode() == 0 && !report.timedOut() ? State.Succeeded : State.Failed;
    switch (step.state) {
      case Pending, Skipped -> {
        return Rejected.conflict("step " + StepNames.quote(step.name) + " is " + step.state + ": it never started");
      }
      case Succeeded, Failed -> {
        boolean same = step.state == result && Objects.equals(step.exitCode, report.exitCode())
            && report.finishTime().equals(step.finishTime) && report.outputBytes() == orZero(step.outputBytes)
            && report.timedOut() == Boolean.TRUE.equals(step.timedOut);
        return same ? DUPLICATE : Rejected.conflict("step " + StepNames.quote(step.name) + " already finished: "
            + step.state + " with exit code " + step.exitCode);
      }
      case Running -> {
        // fall through to apply
      }
    }
    if (report.outputBytes() != orZero(step.outputBytes)) {
      return Rejected.conflict("step " + StepNames.quote(step.name) + " produced " + report.outputBytes()
          + " bytes, but " + orZero(step.outputBytes) + " were acknowledged: send the missing chunks first");
    }
    step.state = result;
    step.exitCode = report.exitCode();
    step.finishTime = report.finishTime();
    step.timedOut = report.timedOut() ? Boolean.TRUE : null;
    if (result == State.Failed) {
      for (int i = index + 1; i < steps.size(); i++) {
        if (steps.get(i).state == State.Pending) {
          steps.get(i).state = State.Skipped;
        }
      }
    }
    return new Applied(steps);
  }

  private static Rejected checkIndex(List<NixekJobStep> spec, int index) {
    if (index < 0 || index >= spec.size()) {
      return Rejected.notFound("the job has " + spec.size() + " steps; there is no step " + index);
    }
    return null;
  }

  private static List<NixekStepStatus> copyOrInitial(List<NixekJobStep> spec, List<NixekStepStatus> current) {
    if (current == null || current.size() != spec.size()) {
      return initial(spec);
    }
    List<NixekStepStatus> out = new ArrayList<>(current.size());
    for (NixekStepStatus s : current) {
      out.add(copy(s));
    }
    return out;
  }

  /** A deep copy of one step status. */
  public static NixekStepStatus copy(NixekStepStatus s) {
    NixekStepStatus c = new NixekStepStatus();
    c.name = s.name;
    c.state = s.state;
    c.exitCode = s.exitCode;
    c.timedOut = s.timedOut;
    c.startTime = s.startTime;
    c.finishTime = s.finishTime;
    c.outputTail = s.outputTail;
    c.outputBytes = s.outputBytes;
    c.outputChunks = s.outputChunks;
    c.outputCutAtBytes = s.outputCutAtBytes;
    if (s.artifacts != null) {
      c.artifacts = new ArrayList<>(s.artifacts.size());
      for (var a : s.artifacts) {
        var ac = new dev.nixek.ci.api.v1alpha1.NixekArtifactStatus();
        ac.name = a.name;
        ac.path = a.path;
        ac.size = a.size;
        ac.sha256 = a.sha256;
        ac.error = a.error;
        c.artifacts.add(ac);
      }
    }
    c.artifactsNotListed = s.artifactsNotListed;
    return c;
  }

  private static long orZero(Long l) {
    return l == null ? 0 : l;
  }

  private static boolean isTimestamp(String s) {
    if (s == null) {
      return false;
    }
    try {
      Instant.parse(s);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
