package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated CRDs and the example manifests on a real kube-apiserver, applied with kubectl as a user would:
 * every example is accepted, and invalid manifests are rejected by the CRD schema with the field named.
 */
@ExtendWith(KubeApiServerExtension.class)
public class ManifestsIT {
  public static final Path HOME = Path.of(System.getProperty("nixek.home", "..")).toAbsolutePath().normalize();

  @BeforeAll
  static void crds(KubeApiServer server) throws IOException {
    installCrds(server);
  }

  public static void installCrds(KubeApiServer server) throws IOException {
    try (Stream<Path> crds = Files.list(HOME.resolve("charts/nixek-ci/crds"))) {
      server.applyServerSide(crds.sorted().toArray(Path[]::new));
    }
    for (String crd : List.of("nixekjobs.ci.nixek.dev", "nixekmachineimages.ci.nixek.dev")) {
      server.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/" + crd).orThrow();
    }
  }

  @Test
  void everyExampleManifestIsAccepted(KubeApiServer server, TestNamespace ns) throws IOException {
    List<Path> examples;
    try (Stream<Path> s = Files.list(HOME.resolve("examples"))) {
      examples = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(examples).isNotEmpty();
    for (Path example : examples) {
      CommandResult r = server.kubectl("apply", "--server-side", "-n", ns.name(), "-f", example.toString());
      assertThat(r.exitCode()).as("%s: %s", example.getFileName(), r.stderr()).isZero();
    }
    CommandResult explain = server.kubectl("explain", "nixekjob.spec.steps.run");
    assertThat(explain.stdout()).contains("Shell script run with /bin/sh -c");
  }

  static List<Object[]> invalidManifests() {
    String job = """
        apiVersion: ci.nixek.dev/v1alpha1
        kind: NixekJob
        metadata:
          name: bad
        spec:
        %s
        """;
    String image = """
        apiVersion: ci.nixek.dev/v1alpha1
        kind: NixekMachineImage
        metadata:
          name: bad
        spec:
        %s
        """;
    return List.of(
        new Object[] {"no steps", job.formatted("  machine: x\n  steps: []"), "spec.steps"},
        new Object[] {"steps missing", job.formatted("  machine: x"), "spec.steps"},
        new Object[] {"step without a name", job.formatted("  machine: x\n  steps:\n  - run: make"), "spec.steps[0].name"},
        new Object[] {"both run and command",
            job.formatted("  machine: x\n  steps:\n  - name: a\n    run: make\n    command: [make]"),
            "exactly one of run and command"},
        new Object[] {"neither run nor command", job.formatted("  machine: x\n  steps:\n  - name: a"),
            "exactly one of run and command"},
        new Object[] {"empty command", job.formatted("  machine: x\n  steps:\n  - name: a\n    command: []"),
            "spec.steps[0].command"},
        new Object[] {"step timeout zero",
            job.formatted("  machine: x\n  steps:\n  - name: a\n    run: x\n    timeoutSeconds: 0"),
            "spec.steps[0].timeoutSeconds"},
        new Object[] {"no machine", job.formatted("  steps:\n  - name: a\n    run: x"), "spec.machineImageName"},
        new Object[] {"image and inline machine",
            job.formatted("  machine: x\n  machineImageName: img\n  steps:\n  - name: a\n    run: x"),
            "exactly one of spec.machineImageName and spec.machine"},
        new Object[] {"negative timeout",
            job.formatted("  machine: x\n  timeoutSeconds: -1\n  steps:\n  - name: a\n    run: x"),
            "spec.timeoutSeconds"},
        new Object[] {"step name with a space", job.formatted("  machine: x\n  steps:\n  - name: a b\n    run: x"),
            "spec.steps[0].name"},
        new Object[] {"unknown field", job.formatted("  machine: x\n  stepz: []\n  steps:\n  - name: a\n    run: x"),
            "stepz"},
        new Object[] {"cancel not a boolean",
            job.formatted("  machine: x\n  cancel: maybe\n  steps:\n  - name: a\n    run: x"), "spec.cancel"},
        new Object[] {"image: bad system", image.formatted("  machine: x\n  system: riscv64-linux"), "spec.system"},
        new Object[] {"image: disk too small", image.formatted("  machine: x\n  diskSizeGiB: 1"), "spec.diskSizeGiB"},
        new Object[] {"image: no machine", image.formatted("  system: x86_64-linux"), "spec.machine"});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidManifests")
  void anInvalidManifestIsRejectedNamingTheField(String what, String manifest, String field, KubeApiServer server,
      TestNamespace ns) {
    CommandResult r = server.kubectlWithInput(manifest, "apply", "--server-side", "-n", ns.name(), "-f", "-");
    assertThat(r.exitCode()).as("%s was accepted: %s", what, r.stdout()).isNotZero();
    assertThat(r.stderr()).as(what).contains(field);
    assertThat(server.kubectl("get", "nixekjobs,nixekmachineimages", "-n", ns.name(), "-o", "name").stdout())
        .as("nothing was created").isBlank();
  }
}
