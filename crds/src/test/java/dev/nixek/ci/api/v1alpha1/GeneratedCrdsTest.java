package dev.nixek.ci.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The CRD YAML committed under charts/nixek-ci/crds is exactly what the build generates, and fully described. */
class GeneratedCrdsTest {
  private static final Path GENERATED = Path.of(System.getProperty("nixek.generatedCrds"));
  private static final Path COMMITTED = Path.of(System.getProperty("nixek.committedCrds"));

  @Test
  void committedCrdsEqualGenerated() throws IOException {
    List<Path> generated = yamlFiles(GENERATED);
    assertThat(generated).extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder("nixekjobs.ci.nixek.dev-v1.yml", "nixekmachineimages.ci.nixek.dev-v1.yml",
            "nixekrepositories.ci.nixek.dev-v1.yml");
    assertThat(yamlFiles(COMMITTED)).extracting(p -> p.getFileName().toString())
        .as("charts/nixek-ci/crds holds exactly the generated CRDs")
        .containsExactlyInAnyOrderElementsOf(generated.stream().map(p -> p.getFileName().toString()).toList());
    for (Path g : generated) {
      assertThat(Files.readString(COMMITTED.resolve(g.getFileName())))
          .as("%s is stale: run hack/update-crds.sh and commit the result", COMMITTED.resolve(g.getFileName()))
          .isEqualTo(Files.readString(g));
    }
  }

  @Test
  void everySpecAndStatusFieldIsDescribed() throws IOException {
    for (Path g : yamlFiles(GENERATED)) {
      CustomResourceDefinition crd;
      try (InputStream in = Files.newInputStream(g)) {
        crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
      }
      JSONSchemaProps root = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
      List<String> undescribed = new ArrayList<>();
      collectUndescribed("spec", root.getProperties().get("spec"), undescribed);
      collectUndescribed("status", root.getProperties().get("status"), undescribed);
      assertThat(undescribed).as("fields without a description in %s (kubectl explain shows nothing)", g).isEmpty();
    }
  }

  @Test
  void jobStatusHasTheTwoWritersFieldsAndPrinterColumns() throws IOException {
    CustomResourceDefinition crd;
    try (InputStream in = Files.newInputStream(GENERATED.resolve("nixekjobs.ci.nixek.dev-v1.yml"))) {
      crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getSubresources().getStatus()).as("status subresource").isNotNull();
    assertThat(version.getAdditionalPrinterColumns()).extracting(c -> c.getName())
        .containsExactly("Age", "Status", "Step", "Instance");
    assertThat(version.getSchema().getOpenAPIV3Schema().getProperties().get("status").getProperties())
        .containsKeys("conditions", "observedGeneration", "startTime", "completionTime", "instanceId", "steps");
  }

  private static void collectUndescribed(String path, JSONSchemaProps props, List<String> out) {
    if (props == null) {
      return;
    }
    // Condition's own fields come from the Kubernetes model: described by the Kubernetes API reference.
    if (path.endsWith(".conditions[]")) {
      return;
    }
    if (props.getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e : props.getProperties().entrySet()) {
        String child = path + "." + e.getKey();
        String d = e.getValue().getDescription();
        if (d == null || d.isBlank()) {
          out.add(child);
        }
        collectUndescribed(child, e.getValue(), out);
      }
    }
    if (props.getItems() != null && props.getItems().getSchema() != null) {
      collectUndescribed(path + "[]", props.getItems().getSchema(), out);
    }
  }

  private static List<Path> yamlFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    }
  }
}
