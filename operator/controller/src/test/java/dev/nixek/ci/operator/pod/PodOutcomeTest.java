package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateTerminatedBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PodOutcomeTest {
  private static Pod pod(String phase, String podReason, String container, Integer exitCode, String reason) {
    PodBuilder b = new PodBuilder().withNewMetadata().withName("p").endMetadata()
        .withNewSpec().withActiveDeadlineSeconds(90L).endSpec()
        .withNewStatus().withPhase(phase).withReason(podReason).withMessage("pod says").endStatus();
    if (exitCode != null) {
      b.editStatus().addNewContainerStatus().withName(container).withNewState().withNewTerminated()
          .withExitCode(exitCode).withReason(reason).withMessage("container says").endTerminated().endState()
          .endContainerStatus().endStatus();
    }
    return b.build();
  }

  @Test
  void aPodThatHasNotEndedIsWorking() {
    assertThat(PodOutcome.of(new PodBuilder().build(), "c")).isEqualTo(new PodOutcome.Working(false));
    assertThat(PodOutcome.of(pod("Pending", null, "c", null, null), "c")).isEqualTo(new PodOutcome.Working(false));
    assertThat(PodOutcome.of(pod("Running", null, "c", null, null), "c")).isEqualTo(new PodOutcome.Working(true));
  }

  @Test
  void aSucceededPodCarriesItsContainersStateWhenThereIsOne() {
    assertThat(PodOutcome.of(pod("Succeeded", null, "c", 0, "Completed"), "c"))
        .isInstanceOfSatisfying(PodOutcome.Succeeded.class,
            s -> assertThat(s.container()).map(ContainerStateTerminated::getMessage).contains("container says"));
    assertThat(PodOutcome.of(pod("Succeeded", null, "c", null, null), "c"))
        .isEqualTo(new PodOutcome.Succeeded(Optional.empty()));
  }

  @Test
  void theDeadlineComesFirstThenMemoryThenTheExitThenNothing() {
    assertThat(PodOutcome.of(pod("Failed", "DeadlineExceeded", "c", 137, "OOMKilled"), "c"))
        .isInstanceOfSatisfying(PodOutcome.DeadlineExceeded.class, d -> {
          assertThat(d.deadlineSeconds()).isEqualTo(90L);
          assertThat(d.podMessage()).isEqualTo("pod says");
          assertThat(d.container()).isPresent();
        });
    assertThat(PodOutcome.of(pod("Failed", null, "c", 137, "OOMKilled"), "c"))
        .isInstanceOf(PodOutcome.OomKilled.class);
    assertThat(PodOutcome.of(pod("Failed", null, "c", 2, "Error"), "c"))
        .isInstanceOfSatisfying(PodOutcome.Exited.class, e -> assertThat(e.container().getExitCode()).isEqualTo(2));
    assertThat(PodOutcome.of(pod("Failed", "Evicted", "c", null, null), "c"))
        .isEqualTo(new PodOutcome.Vanished("Evicted", "pod says"));
  }

  /** An eviction (a storage limit, PodLimits) is read from the pod, even when its killed container has a state. */
  @Test
  void anEvictedPodSaysWhyEvenWithAKilledContainer() {
    assertThat(PodOutcome.of(pod("Failed", "Evicted", "c", 137, "Error"), "c"))
        .isEqualTo(new PodOutcome.Vanished("Evicted", "pod says"));
  }

  @Test
  void theContainerIsFoundByNameOrAsTheOnlyOne() {
    assertThat(PodOutcome.of(pod("Failed", null, "sidecar", 2, "Error"), "c")).isInstanceOf(PodOutcome.Exited.class);
    Pod two = new PodBuilder(pod("Failed", null, "sidecar", 1, "Error")).editStatus().addNewContainerStatus()
        .withName("other").withNewState().withNewRunning().endRunning().endState().endContainerStatus().endStatus()
        .build();
    assertThat(PodOutcome.of(two, "c")).isInstanceOf(PodOutcome.Vanished.class);
  }

  @Test
  void onlyAJsonObjectWithAnErrorIsTheCommandsReport() {
    assertThat(PodOutcome.errorReport(terminated("{\"error\":\"boom\",\"logTail\":\"t\"}")))
        .map(r -> r.get("error").asText()).contains("boom");
    assertThat(PodOutcome.errorReport(terminated("{\"result\":\"applied\"}"))).isEmpty();
    assertThat(PodOutcome.errorReport(terminated("error: the end of a log"))).isEmpty();
    assertThat(PodOutcome.errorReport(terminated(""))).isEmpty();
    assertThat(PodOutcome.errorReport(terminated(null))).isEmpty();
  }

  private static ContainerStateTerminated terminated(String message) {
    return new ContainerStateTerminatedBuilder().withExitCode(1).withMessage(message).build();
  }
}
