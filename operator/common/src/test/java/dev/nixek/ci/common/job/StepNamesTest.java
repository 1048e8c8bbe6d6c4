package dev.nixek.ci.common.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class StepNamesTest {
  private static final Pattern CRD = Pattern.compile(NixekJobStep.NAME_PATTERN);

  /** Names that are display text: what the prototype wrote, paths, percent signs, any script, emoji. */
  static final List<String> GOOD = List.of("Check hello", "This step fails", "build", "-a", "Build / test",
      "100% done", "a%2Fb", "ünïcödé — テスト", "✓ 🚀 ok", "x", "a  b", "'quoted' \\ back\\slash", "a".repeat(100),
      "🚀".repeat(100), "tab\u00a0inside");

  @Test
  void displayTextIsAStepName() {
    for (String name : GOOD) {
      assertThat(StepNames.problem(name)).as(name).isEmpty();
      assertThat(CRD.matcher(name).matches()).as("the CRD's pattern accepts %s", name).isTrue();
    }
  }

  @Test
  void controlCharactersLengthAndEndSpacesAreRefusedWithTheReason() {
    assertThat(StepNames.problem("a\tb")).contains("control character U+0009 at character 2");
    assertThat(StepNames.problem("line\nbreak")).contains("control character U+000A at character 5");
    assertThat(StepNames.problem("del\u007f")).contains("control character U+007F at character 4");
    assertThat(StepNames.problem("🚀c1\u0085")).contains("control character U+0085 at character 4");
    assertThat(StepNames.problem("\u009f")).contains("control character U+009F at character 1");
    assertThat(StepNames.problem(" lead")).contains("starts with a space (U+0020)");
    assertThat(StepNames.problem("trail\u3000")).contains("ends with a space (U+3000)");
    assertThat(StepNames.problem("\u00a0")).contains("starts with a space (U+00A0)");
    assertThat(StepNames.problem("para\u2029")).contains("line break U+2029 at character 5");
    assertThat(StepNames.problem("line\u2028sep")).contains("line break U+2028 at character 5");
    assertThat(StepNames.problem(" ")).contains("starts with a space (U+0020)");
    assertThat(StepNames.problem("a".repeat(101))).contains("more than 100 characters (101)");
    assertThat(StepNames.problem("🚀".repeat(101))).as("characters, not UTF-16 units")
        .contains("more than 100 characters (101)");
    assertThat(StepNames.problem("bad\ud800")).contains("not valid Unicode (an unpaired surrogate at character 4)");
    // every refused name (but the surrogate, which the API server's JSON decoder replaces) is refused by the CRD too
    for (String bad : List.of("a\tb", "line\nbreak", "del\u007f", "🚀c1\u0085", "\u009f", " lead", "trail\u3000",
        "\u00a0", "para\u2029", "line\u2028sep", " ", "\u0000")) {
      assertThat(CRD.matcher(bad).matches()).as("the CRD's pattern refuses %s", bad).isFalse();
    }
  }

  @Test
  void everyC0DelAndC1CharacterIsRefusedAndNothingElseBelowU00A0() {
    for (int cp = 0; cp < 0xa0; cp++) {
      boolean control = cp < 0x20 || cp >= 0x7f;
      String name = "a" + (char) cp + "b";
      assertThat(StepNames.problem(name).isPresent()).as("U+%04X", cp).isEqualTo(control);
      assertThat(CRD.matcher(name).matches()).as("CRD, U+%04X", cp).isEqualTo(!control);
    }
  }

  @Test
  void quotingIsBoundedAndEscaped() {
    assertThat(StepNames.quote("Check hello")).isEqualTo("'Check hello'");
    assertThat(StepNames.quote("a\u001b[31mred\nx'y\\z\u202e")).isEqualTo("'a\\u001B[31mred\\u000Ax\\u0027y\\u005Cz\\u202E'");
    assertThat(StepNames.quote("é".repeat(10_000))).isEqualTo("'" + "é".repeat(64) + "'… (10000 characters)");
    assertThat(StepNames.quote("🚀".repeat(64))).isEqualTo("'" + "🚀".repeat(64) + "'");
    assertThat(StepNames.quote(null)).isEqualTo("null");
    assertThat(Optional.of(StepNames.quote("x".repeat(1 << 20)).length())).get().matches(n -> n < 100);
  }
}
