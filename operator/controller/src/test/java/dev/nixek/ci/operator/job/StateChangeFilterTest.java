package dev.nixek.ci.operator.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.testing.TestJobs;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Which updates of a job wake its reconcile: everything but a step's output counters moving. */
class StateChangeFilterTest {
  private final StateChangeFilter filter = new StateChangeFilter();

  private static NixekJob running() {
    NixekJob j = TestJobs.job("ci", "j", TestJobs.run("build", "make"), TestJobs.run("test", "make check"));
    j.getMetadata().setUid("uid-1");
    j.getMetadata().setResourceVersion("100");
    j.getMetadata().setGeneration(1L);
    j.getMetadata().setFinalizers(new ArrayList<>(List.of("nixekjobs.ci.nixek.dev/finalizer")));
    NixekJobStatus s = new NixekJobStatus();
    s.instanceId = "i-1";
    s.attempt = 1;
    s.currentStep = "1/2";
    s.conditions = Conditions.with(null, Conditions.SUCCEEDED, Conditions.UNKNOWN, "Running", "running", 1L,
        Instant.parse("2026-12-07T12:00:00Z"));
    NixekStepStatus build = new NixekStepStatus();
    build.name = "build";
    build.state = State.Running;
    build.startTime = "2026-12-07T12:00:01Z";
    build.outputTail = "compiling a\n";
    build.outputBytes = 12L;
    build.outputChunks = 1L;
    build.outputCutAtBytes = null;
    NixekStepStatus test = new NixekStepStatus();
    test.name = "test";
    test.state = State.Pending;
    s.steps = new ArrayList<>(List.of(build, test));
    j.setStatus(s);
    return j;
  }

  /** A copy of {@code old} changed by {@code change}, written (a new resourceVersion and managedFields). */
  private static NixekJob written(NixekJob old, Consumer<NixekJob> change) {
    NixekJob j = Serialization.clone(old);
    j.getMetadata().setResourceVersion(Long.toString(Long.parseLong(old.getMetadata().getResourceVersion()) + 1));
    j.getMetadata().setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("nixek-report-api")
        .withOperation("Update").withTime(Instant.now().toString()).build()));
    change.accept(j);
    return j;
  }

  private boolean wakes(Consumer<NixekJob> change) {
    NixekJob old = running();
    return filter.accept(written(old, change), old);
  }

  private static NixekStepStatus build(NixekJob j) {
    return j.getStatus().steps.get(0);
  }

  @Test
  void aWriteMovingOnlyTheOutputCountersIsDropped() {
    assertThat(wakes(j -> {
      build(j).outputTail = "compiling a\ncompiling b\n";
      build(j).outputBytes = 24L;
      build(j).outputChunks = 2L;
      build(j).outputCutAtBytes = 24L;
    })).isFalse();
    assertThat(wakes(j -> build(j).outputBytes = 13L)).as("one counter alone").isFalse();
    // the first chunk of a step with none before: the fields appear
    assertThat(wakes(j -> {
      j.getStatus().steps.get(1).outputTail = "x";
      j.getStatus().steps.get(1).outputChunks = 1L;
    })).isFalse();
  }

  @Test
  void aStepsStateOrResultWakesIt() {
    assertThat(wakes(j -> build(j).state = State.Succeeded)).isTrue();
    assertThat(wakes(j -> {
      build(j).state = State.Failed;
      build(j).exitCode = 2;
      build(j).outputBytes = 40L;
    })).as("a state change that also moves the tail").isTrue();
    assertThat(wakes(j -> build(j).exitCode = 1)).isTrue();
    assertThat(wakes(j -> build(j).finishTime = "2026-12-07T12:01:00Z")).isTrue();
    assertThat(wakes(j -> build(j).timedOut = true)).isTrue();
    assertThat(wakes(j -> j.getStatus().steps.get(1).state = State.Running)).isTrue();
    assertThat(wakes(j -> j.getStatus().steps.remove(1))).as("a step gone").isTrue();
    assertThat(wakes(j -> j.getStatus().steps = null)).isTrue();
  }

  @Test
  void specMetadataAndTheOperatorsFieldsWakeIt() {
    assertThat(wakes(j -> j.getSpec().cancel = true)).isTrue();
    assertThat(wakes(j -> j.getMetadata().setGeneration(2L))).isTrue();
    assertThat(wakes(j -> j.getMetadata().setDeletionTimestamp("2026-12-07T12:02:00Z"))).isTrue();
    assertThat(wakes(j -> j.getMetadata().setFinalizers(List.of()))).isTrue();
    assertThat(wakes(j -> j.getMetadata().setLabels(java.util.Map.of("team", "a")))).isTrue();
    assertThat(wakes(j -> j.getMetadata().setAnnotations(java.util.Map.of("a", "b")))).isTrue();
    assertThat(wakes(j -> j.getStatus().instanceId = "i-2")).isTrue();
    assertThat(wakes(j -> j.getStatus().machineTerminated = true)).isTrue();
    assertThat(wakes(j -> j.getStatus().stepTokenSha256 = "ff")).isTrue();
    assertThat(wakes(j -> j.getStatus().evaluation = new dev.nixek.ci.api.v1alpha1.NixekJobEvaluation())).isTrue();
    assertThat(wakes(j -> j.getStatus().conditions = Conditions.with(j.getStatus().conditions,
        Conditions.SUCCEEDED, Conditions.TRUE, "Succeeded", "done", 1L, Instant.now()))).isTrue();
    assertThat(wakes(j -> j.setStatus(null))).isTrue();
  }

  @Test
  void aWriteThatChangesNothingButTheVersionStillWakesIt() {
    assertThat(wakes(j -> { })).as("as before the filter: a resync or a no-op write").isTrue();
    NixekJob j = running();
    assertThat(filter.accept(j, Serialization.clone(j))).isTrue();
  }

  @Test
  void aJobWithoutStatusOrStepsIsCompared() {
    NixekJob old = TestJobs.job("ci", "j", TestJobs.run("a", "true"));
    old.getMetadata().setResourceVersion("1");
    assertThat(filter.accept(written(old, j -> j.getSpec().timeoutSeconds = 5L), old)).isTrue();
    assertThat(filter.accept(written(old, j -> { }), old)).isTrue();
  }
}
