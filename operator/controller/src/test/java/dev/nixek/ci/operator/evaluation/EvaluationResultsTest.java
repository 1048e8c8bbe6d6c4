package dev.nixek.ci.operator.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.config.EvaluationOptions;
import dev.nixek.ci.operator.evaluation.EvaluationResults.Outcome;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationResultsTest {
  private static final EvaluationOptions OPTIONS = EvaluationOptions.fromEnv(Map.of("NIXEK_EVAL_MEMORY_LIMIT", "2Gi"));

  private static Pod pod(String phase, String podReason, Integer exitCode, String reason, String message) {
    PodBuilder b = new PodBuilder().withNewSpec().withActiveDeadlineSeconds(120L).endSpec()
        .withNewStatus().withPhase(phase).withReason(podReason).endStatus();
    if (exitCode != null) {
      b.editStatus().withContainerStatuses(new ContainerStatusBuilder().withName("evaluate").withNewState()
          .withNewTerminated().withExitCode(exitCode).withReason(reason).withMessage(message).endTerminated()
          .endState().build()).endStatus();
    }
    return b.build();
  }

  private static String failure(Pod pod) {
    Outcome o = EvaluationResults.of(pod, OPTIONS);
    assertThat(o).isInstanceOf(Outcome.Failed.class);
    return ((Outcome.Failed) o).message();
  }

  @Test
  void workingAndEnded() {
    assertThat(EvaluationResults.of(pod("Pending", null, null, null, null), OPTIONS))
        .isEqualTo(new Outcome.Working(false));
    assertThat(EvaluationResults.of(pod("Running", null, null, null, null), OPTIONS))
        .isEqualTo(new Outcome.Working(true));
    assertThat(EvaluationResults.of(pod(null, null, null, null, null), OPTIONS)).isEqualTo(new Outcome.Working(false));
    assertThat(EvaluationResults.of(pod("Succeeded", null, 0, "Completed", "{\"result\":\"applied\"}"), OPTIONS))
        .isEqualTo(new Outcome.Ended());
  }

  @Test
  void theCommandsErrorIsTheMessage() {
    assertThat(failure(pod("Failed", null, 2, "Error", "{\"error\":\"undefined variable 'x' (at spec.nix:3:9)\","
        + "\"logTail\":\"error: undefined variable 'x'\"}"))).isEqualTo("undefined variable 'x' (at spec.nix:3:9)");
  }

  @Test
  void killedPodsSayWhy() {
    assertThat(failure(pod("Failed", "DeadlineExceeded", 143, "Error", null)))
        .isEqualTo("the evaluation ran longer than 120s and was stopped (NIXEK_EVAL_TIMEOUT_SECONDS)");
    assertThat(failure(pod("Failed", null, 137, "OOMKilled", "")))
        .isEqualTo("the evaluation ran out of memory (its limit of 2Gi, NIXEK_EVAL_MEMORY_LIMIT) and was killed");
    assertThat(EvaluationResults.of(pod("Failed", null, 137, "OOMKilled", ""),
        EvaluationOptions.fromEnv(Map.of("NIXEK_EVAL_MEMORY_LIMIT", "none"))))
        .isEqualTo(new Outcome.Failed("the evaluation ran out of memory (the node's memory, NIXEK_EVAL_MEMORY_LIMIT) "
            + "and was killed"));
    assertThat(failure(pod("Failed", "Evicted", null, null, null))).isEqualTo("the evaluation pod failed (Evicted)");
  }

  @Test
  void withoutTheCommandsJsonTheEndOfTheLogStandsIn() {
    assertThat(failure(pod("Failed", null, 1, "Error", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n")))
        .isEqualTo("the evaluation pod exited with code 1 (Error): line 2 | line 3 | line 4 | line 5 | line 6");
    assertThat(failure(pod("Failed", null, 139, null, null)))
        .isEqualTo("the evaluation pod exited with code 139 without a message");
    assertThat(failure(pod("Failed", null, 1, null, "x".repeat(5000)))).hasSize(EvaluationResults.MAX_MESSAGE);
  }

  @Test
  void aPendingPodThatKubernetesHoldsBackSaysWhy() {
    Pod unschedulable = new PodBuilder(pod("Pending", null, null, null, null)).editStatus()
        .addNewCondition().withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .withMessage("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.").endCondition()
        .endStatus().build();
    assertThat(EvaluationResults.of(unschedulable, OPTIONS)).isEqualTo(new Outcome.Stalled("cannot be scheduled: "
        + "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."));
  }

  @Test
  void aPodThatReachedItsDeadlineWithoutStartingNeverStartedAndSaysWhy() {
    Pod neverPulled = new PodBuilder(pod("Failed", "DeadlineExceeded", null, null, null)).editSpec()
        .addNewContainer().withName("evaluate").withImage("nixek/builder:gone").endContainer().endSpec()
        .editStatus().withContainerStatuses(new ContainerStatusBuilder().withName("evaluate").withNewState()
            .withNewWaiting().withReason("ImagePullBackOff").withMessage("Back-off pulling image").endWaiting()
            .endState().build()).endStatus().build();
    assertThat(EvaluationResults.of(neverPulled, OPTIONS)).isEqualTo(new Outcome.NeverStarted("did not start "
        + "within 120s (NIXEK_EVAL_TIMEOUT_SECONDS): it cannot pull its image nixek/builder:gone (ImagePullBackOff: "
        + "Back-off pulling image)"));
  }
}
