package dev.nixek.ci.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobFollowerTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final JobFollower follower = new JobFollower(new PrintStream(bytes, true, StandardCharsets.UTF_8));

  private static NixekJob job(String reason, String message) {
    NixekJob job = new NixekJob();
    job.setStatus(new NixekJobStatus());
    job.getStatus().conditions = List.of(new ConditionBuilder()
        .withType("Succeeded").withStatus("Unknown").withReason(reason).withMessage(message).build());
    return job;
  }

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void aWaitingMessageThatChangesIsPrintedAgainEvenWhenTheReasonStaysTheSame() {
    // what the demo saw under load: the first status it read still said "starting", the next one named the process
    follower.update(job("Evaluating", "starting the evaluation of spec.nix"));
    follower.update(job("Evaluating", "starting the evaluation of spec.nix"));
    follower.update(job("Evaluating", "evaluating spec.nix in a local process (pid 42)"));
    follower.update(job("Launching", "launch failed, retrying: throttled"));
    follower.update(job("Launching", "launching a local machine"));

    assertThat(lines()).containsExactly(
        "==> Evaluating: starting the evaluation of spec.nix",
        "==> Evaluating: evaluating spec.nix in a local process (pid 42)",
        "==> Launching: launch failed, retrying: throttled",
        "==> Launching: launching a local machine");
  }

  @Test
  void whileRunningOnlyTheReasonIsPrintedBecauseTheStepLinesShowTheProgress() {
    follower.update(job("Running", "machine m-1 launched; waiting for the agent"));
    follower.update(job("Running", "running step 1/3: greet"));
    follower.update(job("Running", "running step 2/3: build"));
    follower.update(job("Succeeded", "all 3 steps succeeded"));

    assertThat(lines()).containsExactly(
        "==> Running: machine m-1 launched; waiting for the agent",
        "==> Succeeded: all 3 steps succeeded");
  }
}
