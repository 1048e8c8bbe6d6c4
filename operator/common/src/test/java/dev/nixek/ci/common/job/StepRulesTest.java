package dev.nixek.ci.common.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobEvaluation;
import dev.nixek.ci.api.v1alpha1.NixekJobSpec;
import dev.nixek.ci.api.v1alpha1.NixekJobStatus;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.api.v1alpha1.TextRules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StepRulesTest {
  static NixekJobStep run(String name, String script) {
    NixekJobStep s = new NixekJobStep();
    s.name = name;
    s.run = script;
    return s;
  }

  private static String problem(List<NixekJobStep> steps) {
    return StepRules.validate(steps, "steps").map(StepRules.Problem::message).orElse(null);
  }

  @Test
  void theSchemasRulesAndTheAgentsWithFieldsNamed() {
    assertThat(problem(List.of(run("build", "make"), run("test.unit-1", "make check")))).isNull();
    assertThat(problem(List.of())).isEqualTo("steps: at least one step is required");
    assertThat(problem(null)).isEqualTo("steps: at least one step is required");
    assertThat(problem(Collections.nCopies(1001, run("a", "x")))).isEqualTo("steps: at most 1000 steps, not 1001");
    List<NixekJobStep> withNull = new ArrayList<>(List.of(run("a", "x")));
    withNull.add(null);
    assertThat(problem(withNull)).isEqualTo("steps[1]: is empty");
    assertThat(problem(List.of(run("Check hello", "echo hello"), run("This step fails", "exit 1")))).isNull();
    assertThat(problem(List.of(run("", "x")))).isEqualTo("steps[0].name: is required");
    assertThat(problem(List.of(run("Check\u0007hello", "x"))))
        .isEqualTo("steps[0].name: 'Check\\u0007hello' is not a step name: control character U+0007 at character 6");
    assertThat(problem(List.of(run("a".repeat(101), "x"))))
        .isEqualTo("steps[0].name: '" + "a".repeat(64) + "'… (101 characters) is not a step name: more than 100 "
            + "characters (101)");
    assertThat(problem(List.of(run("Check hello", "x"), run("Check hello", "y"))))
        .isEqualTo("steps[1].name: duplicate step name 'Check hello' (also steps[0])");
    assertThat(problem(List.of(run("a", "x".repeat(65537))))).isEqualTo("steps[0].run: is longer than 65536 characters");
    NixekJobStep argv = new NixekJobStep();
    argv.name = "a";
    argv.command = new ArrayList<>(List.of("make"));
    argv.command.add(null);
    assertThat(problem(List.of(argv))).isEqualTo("steps[0].command[1]: must be a string without NUL characters");
    NixekJobStep env = run("a", "x");
    env.env = Map.of("A", "nul\0");
    assertThat(problem(List.of(env))).isEqualTo("steps[0].env.A: must be a string without NUL characters");
    NixekJobStep slow = run("a", "x");
    slow.timeoutSeconds = 604801L;
    assertThat(problem(List.of(slow))).isEqualTo("steps[0].timeoutSeconds: must be at most 604800");
  }

  @Test
  void scriptsArgumentsAndEnvironmentValuesHoldOnlyWhatYamlCanPrint() {
    assertThat(problem(List.of(run("a", "printf 'a\tb\r\n'\n# ünïcödé ✓ 🚀 and NEL \u0085")))).isNull();
    assertThat(problem(List.of(run("a", "echo \u007f")))).isEqualTo("steps[0].run: has the control character U+007F "
        + "at character 5: only tab, line feed, carriage return and printable characters are allowed (kubectl cannot "
        + "print an object with others as YAML)");
    NixekJobStep argv = new NixekJobStep();
    argv.name = "a";
    argv.command = List.of("printf", "\u001b[2J");
    assertThat(problem(List.of(argv))).startsWith("steps[0].command[1]: has the control character U+001B at character 0");
    NixekJobStep env = run("a", "x");
    env.env = Map.of("CSI", "\u009b");
    assertThat(problem(List.of(env))).startsWith("steps[0].env.CSI: has the control character U+009B at character 0");
  }

  /** The operator's and report API's check and the CRD's pattern (which the API server applies) agree on every char. */
  @Test
  void theJavaCheckAndTheSchemaPatternAgreeOnEveryCharacter() {
    java.util.regex.Pattern schema = java.util.regex.Pattern.compile(TextRules.YAML_PRINTABLE);
    for (int c = 0; c <= 0xffff; c++) {
      String text = "a" + (char) c + "b";
      assertThat(TextRules.firstUnprintable(text) < 0).as("U+%04X", c).isEqualTo(schema.matcher(text).matches());
    }
    assertThat(TextRules.firstUnprintable("a\u007fb")).isEqualTo(1);
  }

  @Test
  void effectiveStepsAreTheSpecsOrTheEvaluations() {
    NixekJob explicit = new NixekJob();
    explicit.setSpec(new NixekJobSpec());
    explicit.getSpec().machineImageName = "img";
    explicit.getSpec().steps = List.of(run("a", "x"));
    assertThat(EffectiveSteps.of(explicit)).extracting(s -> s.name).containsExactly("a");
    assertThat(JobForm.of(explicit.getSpec())).contains(JobForm.STEPS);

    NixekJob nix = new NixekJob();
    nix.setSpec(new NixekJobSpec());
    nix.getSpec().nix = "{ }";
    assertThat(JobForm.needsEvaluation(nix.getSpec())).isTrue();
    assertThat(EffectiveSteps.of(nix)).isNull();
    assertThat(EffectiveSteps.orEmpty(nix)).isEmpty();
    assertThat(EffectiveSteps.known(nix)).isFalse();
    nix.setStatus(new NixekJobStatus());
    nix.getStatus().evaluation = new NixekJobEvaluation();
    nix.getStatus().evaluation.steps = List.of(run("b", "y"));
    assertThat(EffectiveSteps.of(nix)).extracting(s -> s.name).containsExactly("b");
    assertThat(EffectiveSteps.known(nix)).isTrue();

    nix.getSpec().steps = List.of(run("c", "z"));
    assertThat(JobForm.of(nix.getSpec())).as("two forms: none").isEmpty();
    assertThat(EffectiveSteps.of(nix)).as("an invalid spec runs nothing").isNull();
  }
}
