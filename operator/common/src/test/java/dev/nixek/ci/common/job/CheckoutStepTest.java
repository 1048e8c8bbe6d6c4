package dev.nixek.ci.common.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSource;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.common.status.StepReports;
import java.util.List;
import org.junit.jupiter.api.Test;

class CheckoutStepTest {
  private static final String REV = "0123456789abcdef0123456789abcdef01234567";

  private static NixekJobStep step(String name) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = "true";
    return s;
  }

  private static NixekJob explicit(NixekJobSource source) {
    NixekJob job = new NixekJob();
    job.setSpec(new NixekJobSpec());
    job.getSpec().steps = List.of(step("build"), step("test"));
    job.getSpec().machineImageName = "m";
    job.getSpec().source = source;
    return job;
  }

  @Test
  void aJobWithASourceChecksOutFirstAndItsOwnStepsFollow() {
    NixekJobSource source = new NixekJobSource("https://git.example.com/org/repo.git", REV);
    List<NixekJobStep> steps = EffectiveSteps.of(explicit(source));

    assertThat(steps).extracting(s -> s.name).containsExactly("checkout", "build", "test");
    assertThat(steps.get(0)).isInstanceOf(CheckoutStep.class);
    assertThat(((CheckoutStep) steps.get(0)).source()).isSameAs(source);
    // status.steps starts with it too, so that reports for index 0 are the checkout's
    assertThat(StepReports.initial(steps)).extracting(s -> s.name).containsExactly("checkout", "build", "test");
  }

  @Test
  void withoutASourceTheStepsAreTheJobsOwn() {
    assertThat(EffectiveSteps.of(explicit(null))).extracting(s -> s.name).containsExactly("build", "test");
  }

  @Test
  void anUnevaluatedFlakeJobHasNoStepsYetAndAnEvaluatedOneChecksOutFirst() {
    NixekJob job = new NixekJob();
    job.setSpec(new NixekJobSpec());
    job.getSpec().flake = new NixekJobFlake();
    job.getSpec().flake.url = "git+https://git.example.com/org/repo";
    job.getSpec().flake.rev = REV;
    job.getSpec().source = new NixekJobSource("https://git.example.com/org/repo.git", REV);
    assertThat(EffectiveSteps.of(job)).isNull();
    assertThat(EffectiveSteps.known(job)).isFalse();

    job.setStatus(new NixekJobStatus());
    job.getStatus().evaluation = new NixekJobEvaluation();
    job.getStatus().evaluation.steps = List.of(step("hello"));
    assertThat(EffectiveSteps.of(job)).extracting(s -> s.name).containsExactly("checkout", "hello");
    // the evaluation itself is not changed
    assertThat(job.getStatus().evaluation.steps).extracting(s -> s.name).containsExactly("hello");
  }
}
