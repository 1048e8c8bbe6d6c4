package dev.nixek.ci.common.status;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Applies one agent report to a job's {@code status.steps}: pure, so that the report API can retry it against a
 * fresh read after a 409 and get the same answer.
 *
 * <p>Rules (docs/architecture.md#report-protocol): steps run in order and never move backwards; a replay of an applied report is a
 * {@link Duplicate} (for output: the last applied chunk, byte for byte); anything that contradicts what was applied is a 409; a report for a step that does not exist
 * is a 404; a report that cannot be right whatever the state is a 422.
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

  /** A chunk of step {@code index}'s output; the tail kept is at most {@code tailLimit} bytes. */
  public static ReportOutcome output(List<NixekJobStep> spec, List<NixekStepStatus> current, int index,
      OutputChunk chunk, int tailLimit) {
    Rejected bad = checkIndex(spec, index);
    if (bad != null) {
      return bad;
    }
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
    List<NixekStepStatus> steps = copyOrInitial(spec, current);
    NixekStepStatus step = steps.get(index);
    if (step.state == State.Pending || step.state == State.Skipped) {
      return Rejected.conflict("step " + StepNames.quote(step.name) + " is " + step.state + ": it has no output");
    }
    long applied = orZero(step.outputChunks);
    if (chunk.seq() < applied) {
      return replayOf(step, chunk, data, applied);
    }
    if (step.state != State.Running) {
      return Rejected.conflict("step " + StepNames.quote(step.name) + " already finished with " + applied + " chunks");
    }
    if (chunk.seq() > applied) {
      return Rejected.conflict("chunk " + chunk.seq() + " of step " + StepNames.quote(step.name)
          + " arrived before chunk " + applied);
    }
    if (chunk.offset() != orZero(step.outputBytes)) {
      return Rejected.conflict("chunk " + chunk.seq() + " of step " + StepNames.quote(step.name) + " starts at byte "
          + chunk.offset() + ", but " + orZero(step.outputBytes) + " bytes were applied");
    }
    step.outputTail = OutputTail.append(step.outputTail, data, tailLimit);
    step.outputBytes = orZero(step.outputBytes) + data.length;
    step.outputChunks = applied + 1;
    step.lastChunkSha256 = digest(data);
    return new Applied(steps);
  }

  /**
   * An already-used seq: a {@link Duplicate} only if it is the last applied chunk again, byte for byte (the agent
   * has one report in flight, so that is the only chunk it can resend); anything else is a 409. A step whose status
   * has no digest (written before digests were kept) takes the replay of its last seq on trust.
   */
  private static ReportOutcome replayOf(NixekStepStatus step, OutputChunk chunk, byte[] data, long applied) {
    if (chunk.seq() != applied - 1) {
      return Rejected.conflict("chunk " + chunk.seq() + " of step " + StepNames.quote(step.name) + " was applied "
          + "before chunk " + (applied - 1) + ": only the last applied chunk can be sent again");
    }
    boolean same = chunk.offset() + data.length == orZero(step.outputBytes)
        && (step.lastChunkSha256 == null || step.lastChunkSha256.equals(digest(data)));
    return same ? DUPLICATE : Rejected.conflict("chunk " + chunk.seq() + " of step " + StepNames.quote(step.name)
        + " was applied with other bytes: a chunk may be sent again only byte for byte");
  }

  /** The first 128 bits of the SHA-256 of {@code data}, in hex: bounded, and enough to tell a changed chunk. */
  static String digest(byte[] data) {
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(data);
      return HexFormat.of().formatHex(sha, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
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
          + " bytes, but " + orZero(step.outputBytes) + " were reported: send the missing chunks first");
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
    c.lastChunkSha256 = s.lastChunkSha256;
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
