package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.status.StatusWriter;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The verbs of a {@link JobPass}: a job ends once, and a reason brings its own condition status. */
@EnableKubernetesMockClient(crud = true)
class JobPassTest {
  static KubernetesClient client;

  private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.678Z");

  /** A pass over a job of its own namespace (the Events of one test are its own). */
  private static JobPass pass(String namespace) {
    NixekJob job = job(namespace, "j", run("build", "true"));
    job.getMetadata().setUid("uid-1");
    job.getMetadata().setGeneration(3L);
    Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    return new JobPass.Services(client, StatusWriter.jobs(false), new EventRecorder(client, clock), clock,
        Duration.ofSeconds(1)).begin(null, job);
  }

  @Test
  void aJobEndsOnceWithOneEventAndItsFirstCompletionTime() {
    JobPass pass = pass("ends-once");
    pass.end(ConditionReason.TimedOut, "the job ran longer than 1s", EventReason.TimedOut);
    pass.end(ConditionReason.Cancelled, "cancelled by spec.cancel", EventReason.Cancelled);

    assertThat(pass.next().completionTime).isEqualTo("2026-01-02T03:04:05Z");
    List<Event> events = client.v1().events().inNamespace("ends-once").list().getItems();
    assertThat(events).extracting(Event::getReason).containsExactly("TimedOut");
    assertThat(Conditions.isTerminal(pass.next())).isTrue();
  }

  @Test
  void aWarningWithControlCharactersIsRecordedOnceAndStoredEscaped() {
    JobPass pass = pass("escaped-warning");
    String nix = "nix says \u001b[31;1merror:\u001b[0m cannot pull";
    pass.waiting(ConditionReason.EvaluationPending, nix, EventReason.EvaluationPending);
    pass.waiting(ConditionReason.EvaluationPending, nix, EventReason.EvaluationPending);

    assertThat(succeeded(pass).getMessage()).isEqualTo("nix says \\x1b[31;1merror:\\x1b[0m cannot pull");
    List<Event> events = client.v1().events().inNamespace("escaped-warning").list().getItems();
    assertThat(events).hasSize(1).allSatisfy(e -> {
      assertThat(e.getMessage()).isEqualTo(succeeded(pass).getMessage());
      assertThat(e.getCount()).as("the same cause again is no new Event").isIn(null, 1);
    });
  }

  @Test
  void theConditionStatusIsTheReasons() {
    JobPass pass = pass("reasons");
    pass.waiting(ConditionReason.Launching, "launching a fake machine");
    assertThat(succeeded(pass)).extracting(Condition::getStatus, Condition::getReason, Condition::getMessage,
        Condition::getObservedGeneration).containsExactly("Unknown", "Launching", "launching a fake machine", 3L);
    assertThat(pass.next().completionTime).isNull();

    pass.end(ConditionReason.Succeeded, "all 1 steps succeeded", EventReason.Succeeded);
    assertThat(succeeded(pass)).extracting(Condition::getStatus, Condition::getReason).containsExactly("True",
        "Succeeded");

    JobPass failed = pass("reasons-failed");
    failed.end(ConditionReason.StepFailed, "step 'build' (1/1) failed with exit code 1", EventReason.Failed);
    assertThat(succeeded(failed).getStatus()).isEqualTo("False");
  }

  @Test
  void waitingDoesNotEndAJobAndEndingNeedsAFinalReason() {
    JobPass pass = pass("refused");
    assertThatThrownBy(() -> pass.waiting(ConditionReason.TimedOut, "x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> pass.end(ConditionReason.Running, "x", EventReason.Failed))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(pass.next().conditions).isNull();
  }

  private static Condition succeeded(JobPass pass) {
    return Conditions.find(pass.next().conditions, Conditions.SUCCEEDED).orElseThrow();
  }
}
