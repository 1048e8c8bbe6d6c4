package dev.nixek.ci.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason.Kind;
import dev.nixek.ci.api.v1alpha1.ConditionReason.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CRD descriptions of the conditions and the tables of docs/architecture.md name exactly the enum's reasons, each
 * with its condition status.
 */
class ConditionReasonTest {
  @Test
  void jobDescriptionNamesEveryJobReason() {
    assertThat(ConditionReason.JOB_SUCCEEDED).isEqualTo("Conditions. Succeeded: Unknown while "
        + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.UNKNOWN)) + "; True ("
        + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.TRUE)) + ") when every step succeeded; "
        + "False with " + ConditionReason.spoken(ConditionReason.of(Kind.JOB, Status.FALSE)) + ".");
  }

  @Test
  void imageDescriptionNamesEveryImageReason() {
    assertThat(ConditionReason.IMAGE_READY).isEqualTo("Conditions. Ready: Unknown while "
        + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.UNKNOWN)) + "; True ("
        + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.TRUE)) + ") once the image is registered; "
        + "False with " + ConditionReason.spoken(ConditionReason.of(Kind.IMAGE, Status.FALSE)) + ".");
  }

  @Test
  void repositoryDescriptionNamesEveryRepositoryReason() {
    assertThat(ConditionReason.REPOSITORY_READY).isEqualTo("Conditions. Ready: Unknown while "
        + ConditionReason.spoken(ConditionReason.of(Kind.REPOSITORY, Status.UNKNOWN)) + "; True ("
        + ConditionReason.spoken(ConditionReason.of(Kind.REPOSITORY, Status.TRUE)) + ") once every built head's jobs "
        + "exist; False with " + ConditionReason.spoken(ConditionReason.of(Kind.REPOSITORY, Status.FALSE)) + ".");
  }

  @Test
  void parseKnowsEveryNameAndNothingElse() {
    for (ConditionReason r : ConditionReason.values()) {
      assertThat(ConditionReason.parse(r.name())).contains(r);
    }
    assertThat(ConditionReason.parse("Pending")).isEmpty();
  }

  /** The reasons table of docs/architecture.md: one row per reason and kind, each with the enum's status. */
  @Test
  void architectureDocTablesMatchTheEnum() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "architecture.md"), StandardCharsets.UTF_8);
    String section = doc.substring(doc.indexOf("## Condition reasons"), doc.indexOf("\n## ", doc.indexOf(
        "## Condition reasons") + 1));
    int imageTable = section.indexOf("An image's condition is `Ready`");
    int repositoryTable = section.indexOf("A repository's condition is `Ready`");
    assertThat(imageTable).as("the image table of docs/architecture.md").isPositive();
    assertThat(repositoryTable).as("the repository table of docs/architecture.md").isGreaterThan(imageTable);
    assertThat(rows(section.substring(0, imageTable))).containsExactlyInAnyOrderElementsOf(expected(Kind.JOB));
    assertThat(rows(section.substring(imageTable, repositoryTable)))
        .containsExactlyInAnyOrderElementsOf(expected(Kind.IMAGE));
    assertThat(rows(section.substring(repositoryTable)))
        .containsExactlyInAnyOrderElementsOf(expected(Kind.REPOSITORY));
  }

  private static List<String> rows(String table) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^\\| `(\\w+)` \\| (True|False|Unknown) \\|").matcher(table);
    while (m.find()) {
      out.add(m.group(1) + " " + m.group(2));
    }
    return out;
  }

  private static List<String> expected(Kind kind) {
    List<String> out = new ArrayList<>();
    for (ConditionReason r : ConditionReason.values()) {
      if (r.appliesTo(kind)) {
        out.add(r.name() + " " + r.status().value());
      }
    }
    return out;
  }
}
