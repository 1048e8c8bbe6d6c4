package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.testing.TestJobs.command;
import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.operator.job.JobValidator.SpecError;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class JobValidatorTest {
  @Test
  void aWellFormedJobIsValid() {
    assertThat(JobValidator.validate(job("ns", "ok", run("a", "make"), command("b", "make", "test")).getSpec())).isEmpty();
  }

  @Test
  void eachProblemNamesItsField() {
    assertError(s -> s.steps = null, "spec.steps", "at least one step");
    assertError(s -> s.steps = List.of(), "spec.steps", "at least one step");
    assertError(s -> s.steps = List.of(run("a", "x"), run("b", "x"), run("a", "x")), "spec.steps[2].name",
        "duplicate step name 'a' (also spec.steps[0])");
    assertError(s -> s.steps = List.of(run("", "x")), "spec.steps[0].name", "is required");
    assertError(s -> {
      NixekJobStep both = run("a", "x");
      both.command = List.of("y");
      s.steps = List.of(both);
    }, "spec.steps[0]", "both run and command");
    assertError(s -> s.steps = List.of(run("a", null)), "spec.steps[0]", "neither run nor command");
    assertError(s -> s.steps = List.of(command("a")), "spec.steps[0].command", "needs at least a program");
    assertError(s -> s.steps = List.of(run("a", "  ")), "spec.steps[0].run", "is empty");
    assertError(s -> s.machine = null, "spec.machineImageName", "a machine is required");
    assertError(s -> s.machineImageName = "img", "spec.machine", "only one of");
    assertError(s -> s.timeoutSeconds = 0L, "spec.timeoutSeconds", "at least 1");
    assertError(s -> {
      NixekJobStep t = run("a", "x");
      t.timeoutSeconds = -5L;
      s.steps = new ArrayList<>(List.of(t));
    }, "spec.steps[0].timeoutSeconds", "at least 1");
    assertThat(JobValidator.validate(null)).map(SpecError::field).contains("spec");
  }

  private static void assertError(Consumer<NixekJobSpec> breakIt, String field, String problem) {
    NixekJobSpec spec = job("ns", "x", run("ok", "true")).getSpec();
    breakIt.accept(spec);
    Optional<SpecError> e = JobValidator.validate(spec);
    assertThat(e).as("error for %s", field).isPresent();
    assertThat(e.get().field()).isEqualTo(field);
    assertThat(e.get().problem()).contains(problem);
  }
}
