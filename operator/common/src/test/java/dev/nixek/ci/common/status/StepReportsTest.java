package dev.nixek.ci.common.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepReportsTest {
  private static final String T0 = "2026-11-25T10:00:00Z";
  private static final String T1 = "2026-11-25T10:00:05Z";
  private final List<NixekJobStep> spec = List.of(step("build"), step("test"), step("deploy"));

  @Test
  void aStepRunsThroughItsLifecycle() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    assertThat(s).extracting(x -> x.state).containsExactly(State.Running, State.Pending, State.Pending);
    assertThat(s.get(0).outputBytes).isZero();
    assertThat(s.get(0).outputChunks).isZero();
    // what the report API puts in from the log store before it applies the end (chunks never touch StepReports)
    s.get(0).outputBytes = 11L;
    s = applied(StepReports.finished(spec, s, 0, new StepFinished(0, T1, 11, false)));
    assertThat(s.get(0).state).isEqualTo(State.Succeeded);
    assertThat(s.get(0).exitCode).isZero();
    assertThat(s.get(0).finishTime).isEqualTo(T1);
  }

  @Test
  void theInputIsNeverModified() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    StepReports.finished(spec, s, 0, new StepFinished(0, T1, 0, false));
    assertThat(s.get(0).state).isEqualTo(State.Running);
  }

  @Test
  void replaysAreDuplicatesAndContradictionsAreConflicts() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    assertThat(StepReports.started(spec, s, 0, new StepStarted("build", T0))).isInstanceOf(Duplicate.class);
    assertRejected(StepReports.started(spec, s, 0, new StepStarted("build", T1)), 409);
    s.get(0).outputBytes = 3L; // from the log store (report-api's ChunkReplayTest: the chunk rules)
    assertRejected(StepReports.finished(spec, s, 0, new StepFinished(0, T1, 2, false)), 409); // bytes missing
    s = applied(StepReports.finished(spec, s, 0, new StepFinished(3, T1, 3, false)));
    assertThat(StepReports.finished(spec, s, 0, new StepFinished(3, T1, 3, false))).isInstanceOf(Duplicate.class);
    assertRejected(StepReports.finished(spec, s, 0, new StepFinished(0, T1, 3, false)), 409);
  }

  @Test
  void aFailedStepSkipsTheRestAndNothingStartsAfterIt() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    s = applied(StepReports.finished(spec, s, 0, new StepFinished(2, T1, 0, false)));
    assertThat(s).extracting(x -> x.state).containsExactly(State.Failed, State.Skipped, State.Skipped);
    assertRejected(StepReports.started(spec, s, 1, new StepStarted("test", T1)), 409);
    assertRejected(StepReports.finished(spec, s, 1, new StepFinished(0, T1, 0, false)), 409);
  }

  @Test
  void timedOutIsAFailure() {
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    s = applied(StepReports.finished(spec, s, 0, new StepFinished(0, T1, 0, true)));
    assertThat(s.get(0).state).isEqualTo(State.Failed);
    assertThat(s.get(0).timedOut).isTrue();
  }

  @Test
  void stepsStartInOrder() {
    assertRejected(StepReports.started(spec, null, 1, new StepStarted("test", T0)), 409);
    assertRejected(StepReports.finished(spec, null, 0, new StepFinished(0, T0, 0, false)), 409);
  }

  @Test
  void badReportsAreRefused() {
    assertRejected(StepReports.started(spec, null, 3, new StepStarted("x", T0)), 404);
    assertRejected(StepReports.started(spec, null, -1, new StepStarted("x", T0)), 404);
    assertRejected(StepReports.started(spec, null, 0, new StepStarted("test", T0)), 422);
    assertRejected(StepReports.started(spec, null, 0, new StepStarted("build", "yesterday")), 422);
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    assertRejected(StepReports.finished(spec, s, 0, new StepFinished(0, T1, -1, false)), 422);
    assertRejected(StepReports.finished(spec, s, 0, new StepFinished(0, null, 0, false)), 422);
  }

  @Test
  void progressFollowsTheSteps() {
    assertThat(JobProgress.currentStep(null, 3)).isEqualTo("0/3");
    List<NixekStepStatus> s = applied(StepReports.started(spec, null, 0, new StepStarted("build", T0)));
    assertThat(JobProgress.currentStep(s, 3)).isEqualTo("1/3");
    s = applied(StepReports.finished(spec, s, 0, new StepFinished(0, T1, 0, false)));
    assertThat(JobProgress.currentStep(s, 3)).isEqualTo("1/3");
    s = applied(StepReports.started(spec, s, 1, new StepStarted("test", T1)));
    assertThat(JobProgress.currentStep(s, 3)).isEqualTo("2/3");
    assertThat(JobProgress.allSucceeded(s, 3)).isFalse();
    s = applied(StepReports.finished(spec, s, 1, new StepFinished(1, T1, 0, false)));
    assertThat(JobProgress.firstFailed(s)).contains(1);
    assertThat(JobProgress.currentStep(s, 3)).isEqualTo("2/3");
  }

  private static NixekJobStep step(String name) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = "true";
    return s;
  }

  private static List<NixekStepStatus> applied(ReportOutcome o) {
    assertThat(o).isInstanceOf(Applied.class);
    return ((Applied) o).steps();
  }

  private static void assertRejected(ReportOutcome o, int status) {
    assertThat(o).isInstanceOf(Rejected.class);
    assertThat(((Rejected) o).httpStatus()).as(((Rejected) o).message()).isEqualTo(status);
  }
}
