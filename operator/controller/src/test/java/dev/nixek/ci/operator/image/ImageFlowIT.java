package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.ImageBootingProvider;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.ec2.Views;
import dev.nixek.ci.testing.kube.KubeApiServer;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A NixekMachineImage from spec to registered AMI on a real kube-apiserver with the operator's production settings
 * (server-side apply on): the test kubelet runs the builder pod's command — the real builder jar, real
 * {@code nix-build} of a stand-in image — into s3proxy, and the stateful EC2 fake imports and registers it.
 */
class ImageFlowIT extends RealApiServerTier {
  private static final ObjectMapper JSON = new ObjectMapper();


  @BeforeEach
  void startOperator() throws Exception {
    operator.start();
  }

  @Test
  void anImageGoesReadyAndTheUploadedObjectIsTheOneTheStatusDescribes() throws Exception {
    create(ImageTestEnv.image(ns, "rust", ImageTestEnv.uniqueMachine("flow")));
    NixekMachineImage image = awaitReady("rust");

    var s = image.getStatus();
    assertThat(s.imageId).startsWith("ami-");
    assertThat(s.snapshotId).startsWith("snap-");
    assertThat(s.importTaskId).startsWith("import-snap-");
    assertThat(s.observedGeneration).isEqualTo(image.getMetadata().getGeneration());
    assertThat(s.imageHash).matches("[0-9a-f]{64}");
    assertThat(s.region).isEqualTo(ImageTestEnv.REGION);
    assertThat(s.diskFormat).isEqualTo("RAW");
    assertThat(s.sizeBytes).isEqualTo(64L * 1024 * 1024);
    assertThat(s.drvPath).startsWith("/nix/store/").endsWith("-stand-in-nixos-amazon-image.drv");
    assertThat(s.readyTime).isNotNull();
    assertThat(s.amiName).isEqualTo("nixek-" + ImageTestEnv.CLUSTER + "-" + s.imageHash.substring(0, 32));
    String key = "nixek-images/" + ImageTestEnv.CLUSTER + "/" + s.imageHash + "/disk-image";
    assertThat(s.s3Uri).isEqualTo("s3://" + ImageTestEnv.BUCKET + "/" + key);
    // the object in S3 is the one the status describes
    assertThat(env.sha256Of(ImageTestEnv.BUCKET, key)).isEqualTo(s.sha256);

    // one builder pod, as specified
    assertThat(kubelet.started()).containsExactly(s.builderPod);
    Pod pod = client.pods().inNamespace(ns).withName(s.builderPod).get();
    JsonNode result = JSON.readTree(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated()
        .getMessage());
    env.built(result.get("outPath").asText(), s.drvPath);
    assertThat(result.get("sha256").asText()).isEqualTo(s.sha256);
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getServiceAccountName()).isEqualTo("nixek-builder");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(image.getMetadata().getUid()));
    assertThat(pod.getSpec().getContainers().get(0).getEnv()).as("nothing but nix's store choice").extracting(e -> e.getName() + "=" + e.getValue())
        .containsExactly("NIX_REMOTE=local");
    assertThat(pod.getSpec().getContainers().get(0).getCommand()).doesNotContain(env.s3.secretKey())
        .doesNotContain("--endpoint", "--region").contains("--upload-grant", "--key", key);
    // no AWS identity anywhere in the pod: no credentials or token file in its environment, no projected token
    assertThat(pod.getSpec().getContainers().get(0).getEnvFrom()).isNullOrEmpty();
    assertThat(pod.getSpec().getVolumes()).allSatisfy(v -> assertThat(v.getProjected()).isNull());
    assertThat(env.launchedEnvironments.get(s.builderPod)).as("the builder process's environment").isNotNull()
        .allSatisfy((k, v) -> {
          assertThat(k).doesNotStartWith("AWS_");
          assertThat(v).doesNotContain(env.s3.secretKey(), env.s3.accessKey());
        });
    // its grant named this one key and is gone once the operator completed the upload
    String grant = pod.getSpec().getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow()
        .getSecret().getSecretName();
    assertThat(grant).startsWith(s.builderPod + "-");
    assertThat(client.secrets().inNamespace(ns).withName(grant).get()).isNull();

    // one import task, one snapshot, one AMI: as the brief asks EC2 for them
    assertThat(env.ec2.importTasks()).singleElement().satisfies(t -> {
      assertThat(t.importTaskId()).isEqualTo(s.importTaskId);
      assertThat(t.format()).isEqualTo("RAW");
      assertThat(t.s3Bucket()).isEqualTo(ImageTestEnv.BUCKET);
      assertThat(t.s3Key()).isEqualTo(key);
      assertThat(t.roleName()).isEqualTo("vmimport");
      assertThat(t.tags()).containsEntry("nixek.dev/image-hash", s.imageHash);
    });
    Views.ImageView ami = env.ec2.images().stream().filter(i -> i.imageId().equals(s.imageId)).findFirst()
        .orElseThrow();
    assertThat(env.ec2.images()).hasSize(1);
    assertThat(ami.name()).isEqualTo(s.amiName);
    assertThat(ami.architecture()).isEqualTo("x86_64");
    assertThat(ami.rootDeviceName()).isEqualTo("/dev/xvda");
    assertThat(ami.snapshotIds()).containsExactly(s.snapshotId);
    assertThat(ami.enaSupport()).isTrue();
    assertThat(ami.imdsSupport()).isEqualTo("v2.0");
    assertThat(ami.bootMode()).isEqualTo("legacy-bios");
    Map<String, String> tags = Map.of("nixek.dev/image-hash", s.imageHash, "nixek.dev/cluster-id",
        ImageTestEnv.CLUSTER, "nixek.dev/managed-by", "nixek-ci");
    assertThat(ami.tags()).containsAllEntriesOf(tags);
    assertThat(env.ec2.snapshots()).singleElement()
        .satisfies(snap -> assertThat(snap.tags()).containsAllEntriesOf(tags));
    assertThat(env.ec2.calls("RegisterImage")).singleElement().satisfies(c -> assertThat(c.params())
        .containsEntry("BlockDeviceMapping.1.Ebs.VolumeType", "gp3")
        .containsEntry("BlockDeviceMapping.1.DeviceName", "/dev/xvda"));
  }

  @Test
  void aSecondImageOfTheSameIdentityIsReadyWithoutABuildOrAnImport() throws Exception {
    String machine = ImageTestEnv.uniqueMachine("cache");
    create(ImageTestEnv.image(ns, "first", machine));
    NixekMachineImage first = awaitReady("first");
    rememberStorePaths(first);
    int pods = kubelet.started().size();
    int imports = env.ec2.count("ImportSnapshot");
    int registers = env.ec2.count("RegisterImage");

    // formatted differently, with the defaults written out: the same identity
    NixekMachineImage second = ImageTestEnv.image(ns, "second", "\r\n" + machine.replace("\n", "\r\n") + "\n\n");
    second.getSpec().system = "x86_64-linux";
    second.getSpec().nixpkgs = ImageTestEnv.HOME.resolve("nix/tests/stub-nixpkgs").toString();
    create(second);
    NixekMachineImage hit = awaitReady("second");

    assertThat(hit.getStatus().imageId).isEqualTo(first.getStatus().imageId);
    assertThat(hit.getStatus().snapshotId).isEqualTo(first.getStatus().snapshotId);
    assertThat(hit.getStatus().s3Uri).isEqualTo(first.getStatus().s3Uri);
    assertThat(hit.getStatus().sha256).isEqualTo(first.getStatus().sha256);
    assertThat(hit.getStatus().imageHash).isEqualTo(first.getStatus().imageHash);
    assertThat(ready(hit).getMessage()).contains("reusing " + first.getStatus().imageId);
    assertThat(kubelet.started()).as("builder pods").hasSize(pods);
    assertThat(env.ec2.count("ImportSnapshot")).as("ImportSnapshot calls").isEqualTo(imports);
    assertThat(env.ec2.count("RegisterImage")).as("RegisterImage calls").isEqualTo(registers);
    assertThat(env.ec2.importTasks()).hasSize(1);
    assertThat(env.ec2.images()).hasSize(1);
  }

  @Test
  void changingTheMachineMakesAnotherImageAndLeavesTheOldAmiToTheCollector() throws Exception {
    create(ImageTestEnv.image(ns, "evolving", ImageTestEnv.uniqueMachine("v1")));
    NixekMachineImage v1 = awaitReady("evolving");
    rememberStorePaths(v1);

    NixekMachineImage edit = get("evolving");
    edit.getSpec().machine = ImageTestEnv.uniqueMachine("v2");
    client.resources(NixekMachineImage.class).inNamespace(ns).resource(edit).update();
    await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
      NixekMachineImage now = get("evolving");
      assertThat(now.getStatus().observedGeneration).isEqualTo(2L);
      assertThat(ready(now).getStatus()).isEqualTo("True");
    });
    NixekMachineImage v2 = get("evolving");
    rememberStorePaths(v2);
    assertThat(v2.getStatus().imageHash).isNotEqualTo(v1.getStatus().imageHash);
    assertThat(v2.getStatus().imageId).isNotEqualTo(v1.getStatus().imageId);
    assertThat(v2.getStatus().builderPod).isNotEqualTo(v1.getStatus().builderPod);
    assertThat(kubelet.started()).hasSize(2);
    // the old AMI is referenced by nothing now: the collector's, after its grace period
    assertThat(env.ec2.images()).hasSize(2);
  }

  @Test
  void aJobWithAnInlineMachineRunsOnTheCachedImageOfThatMachine(KubeApiServer server) throws Exception {
    FakeMachineProvider machines = new FakeMachineProvider();
    operator.close();
    operator = new ImageOperator(client, env, ns, Map.of(), new ImageBootingProvider(machines)).start();
    String machine = ImageTestEnv.uniqueMachine("inline");
    create(ImageTestEnv.image(ns, "named", machine));
    NixekMachineImage named = awaitReady("named");
    rememberStorePaths(named);
    int pods = kubelet.started().size();
    int imports = env.ec2.count("ImportSnapshot");

    NixekJob job = TestJobs.job(ns, "inline", TestJobs.run("build", "make"));
    job.getSpec().machine = machine;
    client.resources(NixekJob.class).inNamespace(ns).resource(job).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> !machines.launched().isEmpty());

    String inlineName = "nixek-" + named.getStatus().imageHash.substring(0, 32);
    NixekMachineImage inline = get(inlineName);
    assertThat(inline.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "inline-machine");
    assertThat(inline.getMetadata().getOwnerReferences()).as("jobs share images, they do not own them").isEmpty();
    assertThat(inline.getStatus().imageHash).isEqualTo(named.getStatus().imageHash);
    assertThat(machines.request(machines.launched().get(0)).imageId())
        .isEqualTo(named.getStatus().imageId);
    NixekJob launched = client.resources(NixekJob.class).inNamespace(ns).withName("inline").get();
    assertThat(launched.getStatus().imageId).isEqualTo(named.getStatus().imageId);
    assertThat(kubelet.started()).as("builder pods").hasSize(pods);
    assertThat(env.ec2.count("ImportSnapshot")).as("ImportSnapshot calls").isEqualTo(imports);
    assertThat(env.ec2.images()).hasSize(1);
  }

  @Test
  void anAmiRegisteredEarlierUnderTheIdentitysNameIsReusedWithoutABuild() {
    String machine = ImageTestEnv.uniqueMachine("registered-earlier");
    NixekMachineImage image = ImageTestEnv.image(ns, "earlier", machine);
    ImageIdentity id = ImageIdentity.of(image.getSpec(), operator.config().images(), ns);
    // as an image since deleted, or in a namespace this operator does not watch, left it
    String snapshot = env.ec2.seedSnapshot(1, Map.of());
    String ami = env.ec2.seedImage(ImageNames.ami(ImageTestEnv.CLUSTER, id), snapshot, Map.of());

    create(image);
    NixekMachineImage ready = awaitReady("earlier");
    assertThat(ready.getStatus().imageId).isEqualTo(ami);
    assertThat(ready.getStatus().snapshotId).isEqualTo(snapshot);
    assertThat(kubelet.started()).isEmpty();
    assertThat(env.ec2.count("ImportSnapshot")).isZero();
    assertThat(env.ec2.count("RegisterImage")).isZero();
  }

  @Test
  void theProductionRecipeBuildsTheMachineWithNixMachineNix() throws Exception {
    // nix/machine.nix with the stub nixpkgs, built by the builder's default command (nix-build of the expression)
    operator.close();
    operator = new ImageOperator(client, env, ns, Map.of("NIXEK_BUILDER_BUILD_COMMAND", ""), null).start();
    NixekMachineImage image = ImageTestEnv.image(ns, "recipe", ImageTestEnv.uniqueMachine("recipe"));
    image.getSpec().diskSizeGiB = 8;
    create(image);
    NixekMachineImage ready = awaitReady("recipe");
    rememberStorePaths(ready);

    var s = ready.getStatus();
    assertThat(s.diskFormat).isEqualTo("VHD");
    assertThat(s.bootMode).isEqualTo("legacy-bios");
    assertThat(s.drvPath).endsWith("-nixos-image-amazon-25.05.stub-x86_64-linux.drv");
    // provenance: the builder pod's Nix, the image's version (RequiredTools.nix() checked PATH has it)
    assertThat(s.nixVersion).isEqualTo(dev.nixek.ci.testing.kube.NixVersion.pinned());
    // the drvPath is the one Nix gives the expression the ConfigMap carries
    Path dir = Files.createDirectories(work.resolve("recipe"));
    var data = client.configMaps().inNamespace(ns).withName(s.builderPod).get().getData();
    Files.writeString(dir.resolve("machine.nix"), data.get("machine.nix"));
    Files.writeString(dir.resolve("image.nix"), data.get("image.nix"));
    assertThat(data.get("image.nix")).contains("diskSizeGiB = \"8\"");
    assertThat(nix("nix-instantiate", dir.resolve("image.nix").toString())).isEqualTo(s.drvPath);
    assertThat(env.ec2.calls("RegisterImage")).singleElement().satisfies(c -> assertThat(c.params())
        .containsEntry("BootMode", "legacy-bios").containsEntry("BlockDeviceMapping.1.Ebs.VolumeSize", "8"));
  }

  private static String nix(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
    return out;
  }

  /** The builder's outPath and the drvPath, to delete from the Nix store at the end. */
  private void rememberStorePaths(NixekMachineImage image) throws Exception {
    Pod pod = client.pods().inNamespace(ns).withName(image.getStatus().builderPod).get();
    if (pod != null) {
      JsonNode result = JSON.readTree(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated()
          .getMessage());
      env.built(result.path("outPath").asText(null), image.getStatus().drvPath);
    }
  }
}
