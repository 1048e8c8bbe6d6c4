package dev.nixek.ci.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.job.StepNames;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.kube.CommandResult;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
        new Object[] {"step name with a control character",
            job.formatted("  machine: x\n  steps:\n  - name: \"Check\\thello\"\n    run: x"), "spec.steps[0].name"},
        new Object[] {"step name with a line separator",
            job.formatted("  machine: x\n  steps:\n  - name: \"Check\\u2028hello\"\n    run: x"), "spec.steps[0].name"},
        new Object[] {"step name with a leading space",
            job.formatted("  machine: x\n  steps:\n  - name: ' Check hello'\n    run: x"), "spec.steps[0].name"},
        new Object[] {"step name over 100 characters",
            job.formatted("  machine: x\n  steps:\n  - name: '" + "a".repeat(101) + "'\n    run: x"),
            "spec.steps[0].name"},
        new Object[] {"unknown field", job.formatted("  machine: x\n  stepz: []\n  steps:\n  - name: a\n    run: x"),
            "stepz"},
        new Object[] {"cancel not a boolean",
            job.formatted("  machine: x\n  cancel: maybe\n  steps:\n  - name: a\n    run: x"), "spec.cancel"},
        new Object[] {"image: bad system", image.formatted("  machine: x\n  system: riscv64-linux"), "spec.system"},
        new Object[] {"image: disk too small", image.formatted("  machine: x\n  diskSizeGiB: 1"), "spec.diskSizeGiB"},
        new Object[] {"image: no machine", image.formatted("  system: x86_64-linux"), "spec.machine"},
        new Object[] {"nothing to run", job.formatted("  instanceType: m7i.large"),
            "exactly one of spec.nix, spec.flake and spec.steps"},
        new Object[] {"nix and steps", job.formatted("  nix: '{ }'\n  steps:\n  - name: a\n    run: x"),
            "exactly one of spec.nix, spec.flake and spec.steps"},
        new Object[] {"nix and flake", job.formatted("  nix: '{ }'\n  flake:\n    url: github:o/r\n    rev: "
            + "0123456789abcdef0123456789abcdef01234567"), "exactly one of spec.nix, spec.flake and spec.steps"},
        new Object[] {"nix with a machine", job.formatted("  nix: '{ }'\n  machine: x"),
            "with spec.nix or spec.flake the job names its machine itself"},
        new Object[] {"nix empty", job.formatted("  nix: ''"), "spec.nix"},
        new Object[] {"flake without a rev", job.formatted("  flake:\n    url: github:o/r"), "spec.flake.rev"},
        new Object[] {"flake rev not a commit", job.formatted("  flake:\n    url: github:o/r\n    rev: main"),
            "spec.flake.rev"},
        new Object[] {"flake url pinning a rev", job.formatted("  flake:\n    url: git+https://h/r?rev="
            + "0123456789abcdef0123456789abcdef01234567\n    rev: 0123456789abcdef0123456789abcdef01234567"),
            "spec.flake.url must not pin a revision itself"},
        new Object[] {"flake attribute not a path", job.formatted("  flake:\n    url: github:o/r\n    rev: "
            + "0123456789abcdef0123456789abcdef01234567\n    attribute: 'ci.jobs.\"x\"'"), "spec.flake.attribute"},
        new Object[] {"image: nix without drvPath", image.formatted("  nix: '{ }'"), "spec.drvPath"},
        new Object[] {"image: machine and nix", image.formatted("  machine: x\n  nix: '{ }'"),
            "exactly one of spec.machine, spec.nix and spec.flake"},
        new Object[] {"image: drvPath not a derivation", image.formatted("  nix: '{ }'\n  drvPath: /etc/passwd"),
            "spec.drvPath"},
        new Object[] {"image: flake without attribute", image.formatted("  drvPath: /nix/store/"
            + "7lk0y9rlzhfdr1459v3aaljbvzkcxhql-x.drv\n  flake:\n    url: github:o/r\n    rev: "
            + "0123456789abcdef0123456789abcdef01234567"), "spec.flake.attribute is required"});
  }

  /**
   * A C1 control character, posted as JSON (a client's create). Through server-side apply the API server reads the
   * body as YAML, where U+0085 (NEL) is a line break: it stores a space instead, and the name is valid.
   */
  @Test
  void aStepNameWithAC1ControlCharacterIsRefused(KubeApiServer server, TestNamespace ns) {
    for (String name : List.of("Check\u0085hello", "Check\u009bhello", "Check\u007fhello")) {
      NixekJob job = TestJobs.job(ns.name(), "c1", TestJobs.run(name, "true"));
      assertThatThrownBy(() -> server.client().resource(job).create()).as(StepNames.quote(name))
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(422);
            assertThat(e.getMessage()).contains("spec.steps[0].name");
          });
    }
    NixekJob display = TestJobs.job(ns.name(), "display", TestJobs.run("Check hello", "true"),
        TestJobs.run("Build / 100% ünïcödé ✓ 🚀", "true"));
    server.client().resource(display).create();
    assertThat(server.client().resources(NixekJob.class).inNamespace(ns.name()).withName("display").get().getSpec()
        .steps).extracting(s -> s.name).containsExactly("Check hello", "Build / 100% ünïcödé ✓ 🚀");
  }

  @Test
  void aJobsNixExpressionAndFlakeAreImmutable(KubeApiServer server, TestNamespace ns) {
    String nixJob = """
        apiVersion: ci.nixek.dev/v1alpha1
        kind: NixekJob
        metadata:
          name: frozen
        spec:
          nix: '%s'
          cancel: %s
        """;
    assertThat(server.kubectlWithInput(nixJob.formatted("{ steps = [ ]; }", "false"), "apply", "--server-side", "-n",
        ns.name(), "-f", "-").exitCode()).isZero();
    CommandResult cancel = server.kubectlWithInput(nixJob.formatted("{ steps = [ ]; }", "true"), "apply",
        "--server-side", "-n", ns.name(), "-f", "-");
    assertThat(cancel.exitCode()).as("other fields stay mutable: %s", cancel.stderr()).isZero();
    CommandResult changed = server.kubectlWithInput(nixJob.formatted("{ steps = [ x ]; }", "true"), "apply",
        "--server-side", "-n", ns.name(), "-f", "-");
    assertThat(changed.exitCode()).isNotZero();
    assertThat(changed.stderr()).contains("spec.nix is immutable");
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
