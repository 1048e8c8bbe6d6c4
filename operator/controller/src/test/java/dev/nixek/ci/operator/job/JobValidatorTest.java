package dev.nixek.ci.operator.job;

import static dev.nixek.ci.operator.testing.TestJobs.command;
import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobFlake;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.operator.config.JobLimits;
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

  @Test
  void aSourceUrlMustBeOneACheckoutCanFetch() {
    String rev = "0".repeat(40);
    assertError(s -> s.source = new dev.nixek.ci.api.v1alpha1.NixekJobSource("ssh://git@h/o/r", rev),
        "spec.source.url", "ssh:// is not supported");
    assertError(s -> s.source = new dev.nixek.ci.api.v1alpha1.NixekJobSource("git://h/o/r", rev),
        "spec.source.url", "must be an https://, http:// or file:/// URL, not git:...");
    assertError(s -> s.source = new dev.nixek.ci.api.v1alpha1.NixekJobSource(null, rev), "spec.source.url",
        "is required");
    for (String ok : List.of("https://h/o/r.git", "http://127.0.0.1:3000/o/r", "file:///srv/r")) {
      NixekJobSpec spec = job("ns", "x", run("ok", "true")).getSpec();
      spec.source = new dev.nixek.ci.api.v1alpha1.NixekJobSource(ok, rev);
      assertThat(JobValidator.validate(spec)).as(ok).isEmpty();
    }
  }

  @Test
  void jobsWrittenInNixNameTheirOwnMachineAndHaveOneForm() {
    NixekJobSpec nix = new NixekJobSpec();
    nix.nix = "{ steps = [ ]; }";
    assertThat(JobValidator.validate(nix)).isEmpty();
    NixekJobSpec flake = new NixekJobSpec();
    flake.flake = new NixekJobFlake();
    flake.flake.url = "git+https://example.com/org/repo?ref=main";
    flake.flake.rev = "0123456789abcdef0123456789abcdef01234567";
    assertThat(JobValidator.validate(flake)).isEmpty();

    assertNixError(s -> s.steps = List.of(run("a", "x")), "spec.steps", "set only one of spec.nix, spec.flake and "
        + "spec.steps (also spec.nix)");
    assertNixError(s -> s.machine = "{ }", "spec.machine", "not used with spec.nix: the job's Nix expression names its "
        + "machine");
    assertNixError(s -> s.machineImageName = "img", "spec.machineImageName", "not used with spec.nix");
    assertNixError(s -> s.nix = "  \n", "spec.nix", "is empty");
    assertNixError(s -> s.nix = "#".repeat(65537), "spec.nix", "is longer than 65536 characters");
    assertNixError(s -> {
      s.nix = null;
      s.flake = new NixekJobFlake();
      s.flake.url = "git+https://example.com/org/repo?rev=0123456789abcdef0123456789abcdef01234567";
      s.flake.rev = "0123456789abcdef0123456789abcdef01234567";
    }, "spec.flake.url", "must not pin a revision itself");
    assertNixError(s -> {
      s.nix = null;
      s.flake = new NixekJobFlake();
      s.flake.url = "git+https://example.com/org/repo";
      s.flake.rev = "main";
    }, "spec.flake.rev", "must be a full commit hash (40 or 64 hex digits), not 'main'");
    assertNixError(s -> {
      s.nix = null;
      s.flake = new NixekJobFlake();
      s.flake.url = "repo with spaces";
      s.flake.rev = "0123456789abcdef0123456789abcdef01234567";
    }, "spec.flake.url", "is not a flake reference");
    assertNixError(s -> {
      s.nix = null;
      s.flake = flake.flake;
      s.flake.attribute = "ci.jobs.\"quoted\"";
    }, "spec.flake.attribute", "is not an attribute path");
    assertThat(JobValidator.validate(new NixekJobSpec())).hasValueSatisfying(e -> {
      assertThat(e.field()).isEqualTo("spec");
      assertThat(e.problem()).contains("spec.nix, spec.flake, or spec.steps");
    });
    // the default attribute ci.jobs.<name> cannot name a job whose name has a dot
    NixekJobSpec dotted = new NixekJobSpec();
    dotted.flake = new NixekJobFlake();
    dotted.flake.url = "github:org/repo";
    dotted.flake.rev = "0123456789abcdef0123456789abcdef01234567";
    assertThat(JobValidator.validate(dotted, "release.v2")).map(SpecError::field).contains("spec.flake.attribute");
    dotted.flake.attribute = "ci.jobs.release";
    assertThat(JobValidator.validate(dotted, "release.v2")).isEmpty();
  }

  @Test
  void explicitStepsFollowTheSchemasRulesToo() {
    assertThat(JobValidator.validate(job("ns", "ok", run("Check hello", "echo hello"),
        run("This step fails", "exit 1")).getSpec())).as("display names").isEmpty();
    assertError(s -> s.steps = List.of(run("Check\thello", "x")), "spec.steps[0].name",
        "'Check\\u0009hello' is not a step name: control character U+0009 at character 6");
    assertError(s -> s.steps = List.of(run("a".repeat(101), "x")), "spec.steps[0].name",
        "is not a step name: more than 100 characters (101)");
    assertError(s -> s.steps = List.of(run("Check hello", "x"), run("Check hello", "y")), "spec.steps[1].name",
        "duplicate step name 'Check hello' (also spec.steps[0])");
    assertError(s -> {
      NixekJobStep t = run("a", "x");
      t.env = java.util.Map.of("A=B", "x");
      s.steps = List.of(t);
    }, "spec.steps[0].env", "invalid variable name 'A=B'");
  }

  @Test
  void theInstallationsLimitsBoundInstanceTypeAndTimeoutAfterTheSpecsShape() {
    JobLimits limits = new JobLimits(List.of("c7i.*", "t3.small"), "m7i.large", java.time.Duration.ofHours(2));
    Consumer<Consumer<NixekJobSpec>> allowed = change -> {
      NixekJobSpec spec = job("ns", "x", run("ok", "true")).getSpec();
      change.accept(spec);
      assertThat(JobValidator.validate(spec, "x", limits)).isEmpty();
    };
    allowed.accept(s -> { });
    allowed.accept(s -> s.instanceType = "m7i.large");
    allowed.accept(s -> s.instanceType = "c7i.48xlarge");
    allowed.accept(s -> s.instanceType = "t3.small");
    allowed.accept(s -> s.timeoutSeconds = 7200L);
    assertLimit(limits, s -> s.instanceType = "t3.large", "spec.instanceType",
        "'t3.large' is not allowed by this installation (allowed: m7i.large, c7i.*, t3.small; "
        + "NIXEK_EC2_ALLOWED_INSTANCE_TYPES)");
    // a family is a prefix up to the dot, not any type starting with the same letters
    assertLimit(limits, s -> s.instanceType = "c7in.large", "spec.instanceType", "'c7in.large' is not allowed");
    assertLimit(limits, s -> s.timeoutSeconds = 7201L, "spec.timeoutSeconds",
        "7201 is more than this installation's maximum of 7200 (NIXEK_MAX_JOB_TIMEOUT_SECONDS)");
    // the spec's own problems come first
    assertLimit(limits, s -> {
      s.instanceType = "p5.48xlarge";
      s.steps = List.of();
    }, "spec.steps", "at least one step");
    JobLimits any = new JobLimits(List.of("*"), "m7i.large", java.time.Duration.ofDays(7));
    NixekJobSpec big = job("ns", "x", run("ok", "true")).getSpec();
    big.instanceType = "p5.48xlarge";
    big.timeoutSeconds = 604800L;
    assertThat(JobValidator.validate(big, "x", any)).isEmpty();
  }

  private static void assertLimit(JobLimits limits, Consumer<NixekJobSpec> breakIt, String field, String problem) {
    NixekJobSpec spec = job("ns", "x", run("ok", "true")).getSpec();
    breakIt.accept(spec);
    Optional<SpecError> e = JobValidator.validate(spec, "x", limits);
    assertThat(e).as("error for %s", field).isPresent();
    assertThat(e.get().field()).isEqualTo(field);
    assertThat(e.get().problem()).contains(problem);
  }

  private static void assertNixError(Consumer<NixekJobSpec> breakIt, String field, String problem) {
    NixekJobSpec spec = new NixekJobSpec();
    spec.nix = "{ steps = [ ]; }";
    breakIt.accept(spec);
    Optional<SpecError> e = JobValidator.validate(spec);
    assertThat(e).as("error for %s", field).isPresent();
    assertThat(e.get().field()).isEqualTo(field);
    assertThat(e.get().problem()).contains(problem);
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
