package dev.nixek.ci.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nixek.ci.e2e.chart.ChartOptions.Option;
import dev.nixek.ci.operator.config.OperatorConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The chart's configuration block against the options defined in the code, without helm: every option can be set
 * through values (and nothing else can), every value the chart ships is valid for its option, the schema knows
 * exactly the keys values.yaml documents, and the configuration table of the chart's README is the one generated
 * from the code ({@code hack/update-chart-docs.sh} regenerates it).
 */
class ChartValuesTest {
  static final Path README = Helm.CHART.resolve("README.md");
  static final String BEGIN = "<!-- BEGIN generated config table: hack/update-chart-docs.sh -->";
  static final String END = "<!-- END generated config table -->";

  @Test
  void everyOperatorOptionIsSettableThroughValuesAndNothingElse() {
    Set<String> fromValues = new TreeSet<>();
    ChartOptions.all().stream().filter(o -> !o.component().equals("report API")).forEach(o -> fromValues.add(o.env()));
    Set<String> expected = new TreeSet<>(ChartOptions.operatorOptions().keySet());
    expected.removeAll(ChartOptions.CHART_MANAGED.keySet());
    expected.removeAll(ChartOptions.LOGS_MANAGED.keySet());
    assertThat(fromValues).as("config.operator keys + config.watchNamespaces vs OperatorConfig.OPTIONS")
        .containsExactlyElementsOf(expected);
  }

  @Test
  void everyReportApiOptionIsSettableThroughValuesAndNothingElse() {
    Set<String> fromValues = new TreeSet<>();
    ChartOptions.all().stream().filter(o -> !o.component().equals("operator")).forEach(o -> fromValues.add(o.env()));
    Set<String> expected = new TreeSet<>(ChartOptions.reportApiOptions().keySet());
    expected.removeAll(ChartOptions.LOGS_MANAGED.keySet());
    expected.removeAll(ChartOptions.REPORT_API_CHART_MANAGED.keySet());
    assertThat(fromValues).as("config.reportApi keys + config.watchNamespaces vs ReportApiConfig.OPTIONS")
        .containsExactlyElementsOf(expected);
  }

  @Test
  void chartManagedOptionsExist() {
    assertThat(ChartOptions.operatorOptions()).containsKeys(ChartOptions.CHART_MANAGED.keySet().toArray(String[]::new));
    assertThat(OperatorConfig.OPTIONS).extracting(o -> o.key()).doesNotHaveDuplicates();
  }

  @Test
  void everyValueTheChartShipsIsValidForItsOption() {
    int checked = 0;
    for (Option o : ChartOptions.all()) {
      if (ChartOptions.isUnset(o.chartDefault()) || o.parser().isEmpty()) {
        continue;
      }
      String v = ChartOptions.envValue(o.chartDefault());
      assertThatCode(() -> o.parser().get().accept(v)).as("%s=%s", o.valuesKey(), v).doesNotThrowAnyException();
      checked++;
    }
    // the loop skips unset values: make sure it did not skip everything
    assertThat(checked).as("values the chart sets that were checked").isPositive();
  }

  @Test
  void theSchemaDeclaresExactlyTheConfigKeysOfValuesYaml() {
    JsonNode values = ChartOptions.values().get("config");
    JsonNode schema = ChartOptions.schema().get("properties").get("config").get("properties");
    assertThat(keys(schema)).isEqualTo(keys(values));
    for (String block : List.of("operator", "reportApi")) {
      assertThat(keys(schema.get(block).get("properties"))).as(block).isEqualTo(keys(values.get(block)));
    }
  }

  @Test
  void theReadmeConfigTableIsGeneratedFromTheCode() throws IOException {
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    int begin = readme.indexOf(BEGIN);
    int end = readme.indexOf(END);
    assertThat(begin).as("README.md has the markers").isNotNegative();
    assertThat(end).isGreaterThan(begin);
    String updated = readme.substring(0, begin + BEGIN.length()) + "\n" + ChartDocs.configTable() + readme.substring(end);
    if (Boolean.getBoolean("nixek.updateDocs")) {
      Files.writeString(README, updated, StandardCharsets.UTF_8);
      return;
    }
    assertThat(readme).as("charts/nixek-ci/README.md is stale: run hack/update-chart-docs.sh").isEqualTo(updated);
  }

  private static Set<String> keys(JsonNode object) {
    Set<String> out = new HashSet<>();
    for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }
}
