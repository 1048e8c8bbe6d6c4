package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.testing.kube.CommandResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How an image fails, on the real apiserver tier: a failed build, a failed import, an invalid spec. Failures are
 * final for the generation of the spec that failed — nothing is retried blindly — and a spec change tries again.
 */
class ImageFailuresIT extends RealApiServerTier {
  /** Several poll intervals (the operator polls every 1-2 s here): long enough to see a retry that should not be. */
  private static final Duration QUIET = Duration.ofSeconds(5);


  @BeforeEach
  void startOperator() throws Exception {
    operator.start();
  }

  @Test
  void aFailedBuildIsBuildFailedWithTheLogTailAndIsNotRetriedUntilTheSpecChanges() {
    create(ImageTestEnv.image(ns, "broken", ImageTestEnv.uniqueMachine(ImageTestEnv.FAIL_MARKER)));
    Condition failed = awaitReason("broken", "BuildFailed");
    assertThat(failed.getStatus()).isEqualTo("False");
    assertThat(failed.getMessage()).contains("build command exited with status")
        .contains("stand-in build error: the machine asked to fail");
    assertThat(failed.getObservedGeneration()).isEqualTo(1L);
    assertThat(warnings("broken")).contains("BuildFailed");

    // never retried blindly: no second pod, no write of the failed status, over several poll intervals
    String version = get("broken").getMetadata().getResourceVersion();
    await().during(QUIET).atMost(QUIET.plusSeconds(5)).untilAsserted(() -> {
      assertThat(kubelet.started()).hasSize(1);
      assertThat(get("broken").getMetadata().getResourceVersion()).isEqualTo(version);
    });
    assertThat(env.ec2.count("ImportSnapshot")).isZero();

    // a spec change is a new attempt: the failed pod goes, a new one runs (and fails again: same machine)
    retry("broken", "1");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Condition c = ready(get("broken"));
      assertThat(c.getReason()).isEqualTo("BuildFailed");
      assertThat(c.getObservedGeneration()).isEqualTo(2L);
    });
    assertThat(kubelet.started()).hasSize(2);
  }

  @Test
  void anotherMachineAfterAFailedBuildIsBuiltAtOnce() {
    create(ImageTestEnv.image(ns, "second-try", ImageTestEnv.uniqueMachine(ImageTestEnv.FAIL_MARKER)));
    awaitReason("second-try", "BuildFailed");
    NixekMachineImage image = get("second-try");
    image.getSpec().machine = ImageTestEnv.uniqueMachine("fixed");
    client.resources(NixekMachineImage.class).inNamespace(ns).resource(image).update();
    NixekMachineImage ready = awaitReady("second-try");
    env.built(ready.getStatus().drvPath);
    assertThat(kubelet.started()).hasSize(2);
    assertThat(ready(ready).getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void aFailedImportIsImportFailedWithAwsMessageAndIsNotRetriedUntilTheSpecChanges() {
    env.ec2.failNextImport("ClientError: Disk validation failed [Unsupported specified file format]");
    create(ImageTestEnv.image(ns, "unimportable", ImageTestEnv.uniqueMachine("import-fails")));
    Condition failed = awaitReason("unimportable", "ImportFailed");
    assertThat(failed.getStatus()).isEqualTo("False");
    assertThat(failed.getMessage()).contains("ClientError: Disk validation failed [Unsupported specified file format]");
    assertThat(warnings("unimportable")).contains("ImportFailed");
    String firstTask = get("unimportable").getStatus().importTaskId;

    await().during(QUIET).atMost(QUIET.plusSeconds(5)).untilAsserted(() -> {
      assertThat(env.ec2.count("ImportSnapshot")).isEqualTo(1);
      assertThat(env.ec2.calls("DescribeImportSnapshotTasks")).allSatisfy(c ->
          assertThat(c.params()).containsEntry("ImportTaskId.1", firstTask));
    });
    int polls = env.ec2.count("DescribeImportSnapshotTasks");
    await().during(QUIET).atMost(QUIET.plusSeconds(5))
        .until(() -> env.ec2.count("DescribeImportSnapshotTasks") == polls);

    // the spec changes: a new attempt, with a new ClientToken, imports again; the build is not repeated
    retry("unimportable", "1");
    NixekMachineImage ready = awaitReady("unimportable");
    assertThat(ready.getStatus().importAttempt).isEqualTo(2);
    assertThat(ready.getStatus().importTaskId).isNotEqualTo(firstTask);
    assertThat(env.ec2.importTasks()).hasSize(2);
    assertThat(env.ec2.calls("ImportSnapshot")).extracting(c -> c.params().get("ClientToken")).doesNotHaveDuplicates();
    assertThat(env.ec2.images()).hasSize(1);
    assertThat(kubelet.started()).hasSize(1);
  }

  @Test
  void aBlankMachineIsInvalidSpecWithAWarningAndNoPod() {
    // the schema lets a blank machine through (minLength 1); the operator names the field
    create(ImageTestEnv.image(ns, "blank", "   \n"));
    Condition invalid = awaitReason("blank", "InvalidSpec");
    assertThat(invalid.getStatus()).isEqualTo("False");
    assertThat(invalid.getMessage()).isEqualTo("invalid image, nothing built: spec.machine: is empty: a NixOS "
        + "module as a Nix expression is required");
    assertThat(warnings("blank")).containsExactly("InvalidSpec");
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> kubelet.started().isEmpty());
    assertThat(client.pods().inNamespace(ns).list().getItems()).isEmpty();
    assertThat(env.ec2.calls()).isEmpty();

    // fixing it builds it
    NixekMachineImage fixed = get("blank");
    fixed.getSpec().machine = ImageTestEnv.uniqueMachine("fixed");
    client.resources(NixekMachineImage.class).inNamespace(ns).resource(fixed).update();
    awaitReady("blank");
  }

  @Test
  void theSchemaRejectsABadSystemAndDiskSize() {
    for (String bad : List.of("system: riscv64-linux", "diskSizeGiB: 1", "machine: \"\"")) {
      String yaml = """
          apiVersion: ci.nixek.dev/v1alpha1
          kind: NixekMachineImage
          metadata:
            name: bad
            namespace: %s
          spec:
            machine: "{ ... }: { }"
            %s
          """.formatted(ns, bad);
      CommandResult r = server.kubectlWithInput(yaml.replace("machine: \"{ ... }: { }\"\n  machine: \"\"",
          "machine: \"\""), "apply", "--server-side", "-f", "-");
      assertThat(r.exitCode()).as(bad).isNotZero();
      assertThat(r.stderr()).as(bad).contains("spec." + bad.substring(0, bad.indexOf(':')));
    }
  }

  private void retry(String name, String value) {
    NixekMachineImage image = get(name);
    image.getSpec().retry = value;
    client.resources(NixekMachineImage.class).inNamespace(ns).resource(image).update();
  }

  private List<String> warnings(String name) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()) && "Warning".equals(e.getType()))
        .map(Event::getReason).toList();
  }
}
