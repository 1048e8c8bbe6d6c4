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
import java.util.Map;
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
    for (String crd : List.of("nixekjobs.ci.nixek.dev", "nixekmachineimages.ci.nixek.dev",
        "nixekrepositories.ci.nixek.dev")) {
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
        new Object[] {"ssh source",
            job.formatted("  machine: x\n  source:\n    url: ssh://git@git.example.com/o/r.git\n    rev: \""
                + "0".repeat(40) + "\"\n  steps:\n  - name: a\n    run: x"),
            "spec.source.url: ssh:// is not supported"},
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

  /**
   * A control character YAML cannot print, stored in any object, makes {@code kubectl get -o yaml} fail for every list
   * it is in: the schema refuses it in every free-text field of the spec, naming the field; what YAML prints (tab,
   * CR, NEL, any script) is stored as written and the list prints.
   */
  @Test
  void controlCharactersThatYamlCannotPrintAreRefusedInEveryFreeTextField(KubeApiServer server, TestNamespace ns) {
    Map<String, java.util.function.Consumer<NixekJob>> fields = new java.util.LinkedHashMap<>();
    fields.put("spec.steps[0].run", j -> j.getSpec().steps.get(0).run = "echo \u007f");
    fields.put("spec.steps[0].command[1]", j -> {
      j.getSpec().steps.get(0).run = null;
      j.getSpec().steps.get(0).command = List.of("printf", "\u001b]0;owned\u0007");
    });
    fields.put("spec.steps[0].env.X", j -> j.getSpec().steps.get(0).env = Map.of("X", "\u009b2J"));
    fields.put("spec.env.X", j -> j.getSpec().env = Map.of("X", "\u0000"));
    fields.put("spec.machine", j -> {
      j.getSpec().machineImageName = null;
      j.getSpec().machine = "{ }\u007f";
    });
    int n = 0;
    for (Map.Entry<String, java.util.function.Consumer<NixekJob>> f : fields.entrySet()) {
      NixekJob job = TestJobs.job(ns.name(), "ctl-" + n++, TestJobs.run("a", "true"));
      f.getValue().accept(job);
      assertThatThrownBy(() -> server.client().resource(job).create()).as(f.getKey())
          .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(422);
            assertThat(e.getMessage()).contains(f.getKey());
          });
    }
    NixekJob nix = new NixekJob();
    nix.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withNamespace(ns.name()).withName("ctl-nix")
        .build());
    nix.setSpec(new dev.nixek.ci.api.v1alpha1.NixekJobSpec());
    nix.getSpec().nix = "{ steps = [ ]; }\u0008";
    assertThatThrownBy(() -> server.client().resource(nix).create())
        .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getMessage()).contains("spec.nix"));

    NixekJob printable = TestJobs.job(ns.name(), "printable", TestJobs.run("a", "printf 'a\\tb\\r\\n'\t\r\n# ✓ 🚀 \u0085"));
    printable.getSpec().env = Map.of("TAB", "a\tb");
    server.client().resource(printable).create();
    CommandResult yaml = server.kubectl("get", "nixekjobs", "-n", ns.name(), "-o", "yaml");
    assertThat(yaml.exitCode()).as(yaml.stderr()).isZero();
    assertThat(server.kubectl("get", "nixekjobs", "-n", ns.name(), "-o", "name").stdout().strip())
        .isEqualTo("nixekjob.ci.nixek.dev/printable");
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

  /**
   * Once created, a job's spec changes only in spec.cancel: every other field, changed, added or removed, is refused
   * by the API server naming it (the CRD's transition rules), and nothing is stored; metadata stays free (GitOps tools
   * write labels and annotations).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("specChanges")
  void aChangedSpecIsRefusedNamingTheField(String what, String changed, String field, KubeApiServer server,
      TestNamespace ns) {
    String created = STEPS_JOB.formatted("", "run: make", "");
    assertThat(server.kubectlWithInput(created, "apply", "--server-side", "-n", ns.name(), "-f", "-").exitCode())
        .isZero();
    String before = server.kubectl("get", "nixekjob", "frozen", "-n", ns.name(), "-o", "jsonpath={.spec}").stdout();
    CommandResult r = server.kubectlWithInput(changed, "apply", "--server-side", "-n", ns.name(), "-f", "-");
    assertThat(r.exitCode()).as("%s was accepted: %s", what, r.stdout()).isNotZero();
    assertThat(r.stderr()).as(what).contains(field + ": Invalid value")
        .contains(field + " is immutable: a job runs once, as it was created, and only spec.cancel may change");
    assertThat(server.kubectl("get", "nixekjob", "frozen", "-n", ns.name(), "-o", "jsonpath={.spec}").stdout())
        .as("nothing stored").isEqualTo(before);
  }

  private static final String STEPS_JOB = """
      apiVersion: ci.nixek.dev/v1alpha1
      kind: NixekJob
      metadata:
        name: frozen
      spec:
        machineImageName: img
      %s
        steps:
        - name: build
          %s
      %s
      """;

  static List<Object[]> specChanges() {
    return List.of(
        new Object[] {"a step's script", STEPS_JOB.formatted("", "run: make test", ""), "spec.steps"},
        new Object[] {"a step's program", STEPS_JOB.formatted("", "command: [make]", ""), "spec.steps"},
        new Object[] {"a step added", STEPS_JOB.formatted("", "run: make", "  - name: more\n    run: x"),
            "spec.steps"},
        new Object[] {"env added", STEPS_JOB.formatted("  env: {A: b}", "run: make", ""), "spec.env"},
        new Object[] {"instance type added", STEPS_JOB.formatted("  instanceType: m7i.large", "run: make", ""),
            "spec.instanceType"},
        new Object[] {"timeout added", STEPS_JOB.formatted("  timeoutSeconds: 60", "run: make", ""),
            "spec.timeoutSeconds"},
        new Object[] {"another image", STEPS_JOB.formatted("", "run: make", "").replace("img", "other"),
            "spec.machineImageName"},
        new Object[] {"an inline machine instead", STEPS_JOB.formatted("", "run: make", "")
            .replace("machineImageName: img", "machine: '{ }'"), "spec.machineImageName"});
  }

  /** What stays mutable: spec.cancel (both ways), labels and annotations; re-applying the same manifest is no change. */
  @Test
  void cancelMetadataAndTheSameManifestAreAccepted(KubeApiServer server, TestNamespace ns) {
    String created = STEPS_JOB.formatted("", "run: make", "");
    assertThat(server.kubectlWithInput(created, "apply", "--server-side", "-n", ns.name(), "-f", "-").exitCode())
        .isZero();
    CommandResult again = server.kubectlWithInput(created, "apply", "--server-side", "-n", ns.name(), "-f", "-");
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    assertThat(server.kubectl("get", "nixekjob", "frozen", "-n", ns.name(), "-o",
        "jsonpath={.metadata.generation}").stdout()).as("the same manifest is no change").isEqualTo("1");
    for (String cancel : List.of("  cancel: true", "  cancel: false")) {
      CommandResult r = server.kubectlWithInput(STEPS_JOB.formatted(cancel, "run: make", ""), "apply",
          "--server-side", "-n", ns.name(), "-f", "-");
      assertThat(r.exitCode()).as("%s: %s", cancel, r.stderr()).isZero();
    }
    CommandResult labelled = server.kubectl("label", "-n", ns.name(), "nixekjob", "frozen",
        "app.kubernetes.io/instance=ci");
    assertThat(labelled.exitCode()).as(labelled.stderr()).isZero();
    CommandResult annotated = server.kubectl("annotate", "-n", ns.name(), "nixekjob", "frozen",
        "argocd.argoproj.io/tracking-id=x");
    assertThat(annotated.exitCode()).as(annotated.stderr()).isZero();
  }

  /**
   * The transition rules stay within the API server's cost budgets at the spec's maximums: the CRD was accepted (its
   * estimated cost), and cancelling a job of 1,000 steps of 1,000-character scripts is too (the runtime cost).
   */
  @Test
  void cancellingTheLargestJobStaysWithinTheCelCostBudget(KubeApiServer server, TestNamespace ns) {
    List<dev.nixek.ci.api.v1alpha1.NixekJobStep> steps = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      steps.add(TestJobs.run("step " + i, "x".repeat(1000)));
    }
    NixekJob job = TestJobs.job(ns.name(), "large", steps.toArray(dev.nixek.ci.api.v1alpha1.NixekJobStep[]::new));
    server.client().resource(job).create();
    NixekJob cancelled = server.client().resources(NixekJob.class).inNamespace(ns.name()).withName("large")
        .edit(j -> {
          j.getSpec().cancel = true;
          return j;
        });
    assertThat(cancelled.getSpec().cancel).isTrue();
    assertThat(cancelled.getMetadata().getGeneration()).isEqualTo(2L);
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
