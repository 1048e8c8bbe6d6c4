package dev.nixek.ci.operator.pod;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import org.junit.jupiter.api.Test;

class PodStallsTest {
  private static PodBuilder pending() {
    return new PodBuilder().withNewSpec().addNewContainer().withName("c").withImage("nixek/builder:dev").endContainer()
        .endSpec().withNewStatus().withPhase("Pending").endStatus();
  }

  private static Pod waiting(String reason, String message) {
    return pending().editStatus().withContainerStatuses(new ContainerStatusBuilder().withName("c")
        .withImage("docker.io/nixek/builder:dev").withNewState().withNewWaiting().withReason(reason)
        .withMessage(message).endWaiting().endState().build()).endStatus().build();
  }

  @Test
  void anUnschedulablePodSaysWhatTheSchedulerSaid() {
    Pod pod = pending().editStatus().withConditions(new PodConditionBuilder().withType("PodScheduled")
        .withStatus("False").withReason("Unschedulable").withMessage("0/3 nodes are available: 3 node(s) didn't "
            + "match Pod's node affinity/selector.").build()).endStatus().build();
    assertThat(PodStalls.of(pod, "c")).contains("cannot be scheduled: 0/3 nodes are available: 3 node(s) didn't "
        + "match Pod's node affinity/selector.");
  }

  @Test
  void imagePullFailuresNameTheImageAsThePodAsksForIt() {
    assertThat(PodStalls.of(waiting("ErrImagePull", "rpc error: code = NotFound desc = failed to pull"), "c"))
        .contains("cannot pull its image nixek/builder:dev (ErrImagePull: rpc error: code = NotFound desc = failed "
            + "to pull)");
    assertThat(PodStalls.of(waiting("ImagePullBackOff", "Back-off pulling image \"nixek/builder:dev\""), "c"))
        .contains("cannot pull its image nixek/builder:dev (ImagePullBackOff: Back-off pulling image "
            + "\"nixek/builder:dev\")");
    assertThat(PodStalls.of(waiting("InvalidImageName", null), "c"))
        .contains("cannot pull its image nixek/builder:dev (InvalidImageName)");
  }

  @Test
  void aContainerThatCannotBeMadeSaysWhy() {
    assertThat(PodStalls.of(waiting("CreateContainerConfigError", "secret \"x\" not found"), "c"))
        .contains("cannot start its container (CreateContainerConfigError: secret \"x\" not found)");
  }

  @Test
  void aPodThatIsMerelyStartingHasNoStall() {
    assertThat(PodStalls.of(new PodBuilder().build(), "c")).isEmpty();
    assertThat(PodStalls.of(pending().build(), "c")).isEmpty();
    assertThat(PodStalls.of(waiting("ContainerCreating", null), "c")).isEmpty();
    assertThat(PodStalls.of(pending().editStatus().withConditions(new PodConditionBuilder().withType("PodScheduled")
        .withStatus("True").build()).endStatus().build(), "c")).isEmpty();
  }

  @Test
  void longMessagesAreBounded() {
    String stall = PodStalls.of(waiting("ErrImagePull", "x".repeat(5000)), "c").orElseThrow();
    assertThat(stall).hasSize(PodStalls.MAX_MESSAGE).endsWith("…");
  }
}
