package dev.nixek.ci.e2e.chart;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nixek.ci.e2e.chart.ChartOptions.Option;
import java.util.Map;

/** The configuration table of the chart's README, generated from values.yaml and the options in the code. */
final class ChartDocs {
  private ChartDocs() {}

  static String configTable() {
    StringBuilder b = new StringBuilder();
    b.append("| Key | Environment variable (container) | Chart default | Program default | Description |\n");
    b.append("| --- | --- | --- | --- | --- |\n");
    for (Option o : ChartOptions.all()) {
      b.append("| `").append(o.valuesKey()).append("` | `").append(o.env()).append("` (").append(o.component())
          .append(") | ").append(chartDefault(o.chartDefault()))
          .append(ChartOptions.CHART_COMPUTED.containsKey(o.valuesKey())
              ? ": " + ChartOptions.CHART_COMPUTED.get(o.valuesKey()) : "").append(" | ")
          .append(o.programDefault().map(ChartDocs::code).orElse("—")).append(" | ")
          .append(cell(o.description())).append(" |\n");
    }
    b.append('\n').append("Set by the chart itself:\n\n");
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(ChartOptions.CHART_MANAGED).entrySet()) {
      String description = ChartOptions.operatorOptions().get(e.getKey()).description();
      b.append("- `").append(e.getKey()).append("` (operator): ").append(e.getValue()).append(" — ")
          .append(description).append('\n');
    }
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(ChartOptions.REPORT_API_CHART_MANAGED).entrySet()) {
      String description = ChartOptions.reportApiOptions().get(e.getKey()).description();
      b.append("- `").append(e.getKey()).append("` (report API): ").append(e.getValue()).append(" — ")
          .append(description).append('\n');
    }
    b.append('\n').append("From the `logs` block (docs/logs.md), in both containers unless marked:\n\n");
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(ChartOptions.LOGS_MANAGED).entrySet()) {
      b.append("- `").append(e.getKey()).append("`: ").append(e.getValue()).append('\n');
    }
    return b.toString();
  }

  private static String chartDefault(JsonNode v) {
    if (v == null || v.isNull()) {
      return "`null` (program default)";
    }
    if (ChartOptions.isUnset(v)) {
      return "`" + v + "`";
    }
    return code(ChartOptions.envValue(v));
  }

  private static String code(String s) {
    String tmp = System.getProperty("java.io.tmpdir");
    if (tmp != null && s.startsWith(tmp)) {
      s = "$java.io.tmpdir" + s.substring(tmp.length());
    }
    return s.isEmpty() ? "`\"\"`" : "`" + s.replace("|", "\\|") + "`";
  }

  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }
}
