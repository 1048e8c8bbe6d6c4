package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.protocol.StepStarted;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The token-liveness rules of a report, without a server. */
class ReportWriterTest {
  private static final StepChange<StepStarted> STARTED = (spec, steps, index, report, tail) ->
      StepReports.started(spec, steps, index, report);
  private static final StepStarted BUILD = new StepStarted("build", "2026-11-25T10:01:00Z");

  private static NixekJob job(String uid, String succeeded) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("j").withUid(uid).build());
    NixekJobSpec spec = new NixekJobSpec();
    NixekJobStep step = new NixekJobStep();
    step.name = "build";
    spec.steps = List.of(step);
    job.setSpec(spec);
    NixekJobStatus status = new NixekJobStatus();
    if (succeeded != null) {
      status.conditions = Conditions.with(null, Conditions.SUCCEEDED, succeeded, "R", "", 1L, Instant.EPOCH);
    }
    job.setStatus(status);
    return job;
  }

  private static ReportOutcome decide(NixekJob job) {
    return ReportWriter.decide(job, "uid-1", 0, BUILD, STARTED, 4096, 131072);
  }

  @Test
  void aRunningJobTakesTheReport() {
    assertThat(decide(job("uid-1", Conditions.UNKNOWN))).isInstanceOf(Applied.class);
    assertThat(decide(job("uid-1", null))).isInstanceOf(Applied.class);
  }

  @Test
  void aGoneOrReplacedJobKillsTheToken() {
    assertThat(decide(null)).isEqualTo(new Rejected(401, ReportWriter.TOKEN_REVOKED,
        "the job of this token no longer exists"));
    assertThat(decide(job("uid-2", Conditions.UNKNOWN))).isInstanceOfSatisfying(Rejected.class,
        r -> assertThat(r.httpStatus()).isEqualTo(401));
  }

  @Test
  void aFinishedJobAcknowledgesReplaysAndRefusesAnythingElse() {
    NixekJob done = job("uid-1", Conditions.TRUE);
    assertThat(decide(done)).isInstanceOfSatisfying(Rejected.class, r -> assertThat(r.httpStatus()).isEqualTo(401));
    ReportOutcome applied = decide(job("uid-1", Conditions.UNKNOWN));
    done.getStatus().steps = ((Applied) applied).steps();
    assertThat(decide(done)).isInstanceOf(Duplicate.class);
    // a report StepReports itself would refuse (unknown step) is still a dead token on a finished job
    assertThat(ReportWriter.decide(done, "uid-1", 5, BUILD, STARTED, 4096, 131072))
        .isInstanceOfSatisfying(Rejected.class, r -> assertThat(r.httpStatus()).isEqualTo(401));
  }
}
