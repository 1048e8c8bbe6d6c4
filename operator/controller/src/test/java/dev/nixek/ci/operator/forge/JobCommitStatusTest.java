package dev.nixek.ci.operator.forge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekForgeStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.repository.RepositoryJobs;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobCommitStatusTest {
  static final String SHA = ForgeStatusApiTest.SHA;

  static NixekJob job(ConditionReason reason, String message, NixekStepStatus... steps) {
    NixekJob job = new NixekJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("ci").withName("repo-6dcb09b-hello")
        .addToLabels(RepositoryJobs.REPOSITORY_LABEL, "repo")
        .addToAnnotations(RepositoryJobs.COMMIT_ANNOTATION, SHA)
        .addToAnnotations(RepositoryJobs.JOB_ANNOTATION, "hello").build());
    if (reason != null) {
      job.setStatus(new NixekJobStatus());
      job.getStatus().conditions = Conditions.with(null, Conditions.SUCCEEDED, reason, message, 1L, Instant.now());
      job.getStatus().steps = List.of(steps);
    }
    return job;
  }

  static NixekStepStatus step(String name, NixekStepStatus.State state, Integer exitCode, Boolean timedOut) {
    NixekStepStatus s = new NixekStepStatus();
    s.name = name;
    s.state = state;
    s.exitCode = exitCode;
    s.timedOut = timedOut;
    return s;
  }

  private static CommitStatus of(NixekJob job) {
    return JobCommitStatus.of(job).orElseThrow().status();
  }

  @Test
  void pendingUntilTheJobEndsUnderTheContextOfItsFlakeJob() {
    assertThat(of(job(null, null))).isEqualTo(new CommitStatus("pending", "nixek-ci job repo-6dcb09b-hello",
        "nixek-ci/hello", null));
    assertThat(of(job(ConditionReason.Running, "running")).state()).isEqualTo("pending");
    assertThat(JobCommitStatus.of(job(null, null)).orElseThrow().commit()).isEqualTo(SHA);
  }

  @Test
  void successFailureWithTheStepAndExitCodeAndErrorWithTheReason() {
    var ok = NixekStepStatus.State.Succeeded;
    var failed = NixekStepStatus.State.Failed;
    assertThat(of(job(ConditionReason.Succeeded, "done", step("checkout", ok, 0, null), step("build", ok, 0, null))))
        .isEqualTo(new CommitStatus("success", "all 2 steps succeeded", "nixek-ci/hello", null));
    assertThat(of(job(ConditionReason.StepFailed, "x", step("checkout", ok, 0, null), step("build", failed, 2, null),
        step("test", NixekStepStatus.State.Skipped, null, null))))
        .isEqualTo(new CommitStatus("failure", "step 'build' failed with exit code 2", "nixek-ci/hello", null));
    assertThat(of(job(ConditionReason.StepFailed, "x", step("slow", failed, 124, true))).description())
        .isEqualTo("step 'slow' timed out (exit code 124)");
    assertThat(of(job(ConditionReason.Cancelled, "spec.cancel is true"))).isEqualTo(new CommitStatus("error",
        "Cancelled: spec.cancel is true", "nixek-ci/hello", null));
    assertThat(of(job(ConditionReason.TimedOut, "the job ran past spec.timeoutSeconds (600 s)")).state())
        .isEqualTo("error");
    assertThat(of(job(ConditionReason.InstanceLost, "the machine went away")).description())
        .isEqualTo("InstanceLost: the machine went away");
  }

  @Test
  void aJobNoRepositoryMadeOrWithoutAFullCommitGetsNone() {
    NixekJob plain = job(null, null);
    plain.getMetadata().getLabels().clear();
    assertThat(JobCommitStatus.of(plain)).isEmpty();
    NixekJob shortCommit = job(null, null);
    shortCommit.getMetadata().getAnnotations().put(RepositoryJobs.COMMIT_ANNOTATION, "6dcb09b");
    assertThat(JobCommitStatus.of(shortCommit)).isEmpty();
  }

  @Test
  void whatWasPostedIsComparedByStateDescriptionAndContext() {
    CommitStatus s = new CommitStatus("success", "ok", "nixek-ci/hello", null);
    NixekForgeStatus posted = new NixekForgeStatus();
    posted.state = "success";
    posted.description = "ok";
    posted.context = "nixek-ci/hello";
    posted.postedAt = "2026-01-01T00:00:00Z";
    assertThat(JobCommitStatus.same(posted, s)).isTrue();
    posted.state = "pending";
    assertThat(JobCommitStatus.same(posted, s)).isFalse();
    assertThat(JobCommitStatus.same(null, s)).isFalse();
  }
}
