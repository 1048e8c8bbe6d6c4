package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.events.EventRecorder;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The image reconciler on the fabric8 mock API server (CRUD mode: no server-side apply, so status goes the JSON-patch
 * way) with the EC2 fake and s3proxy. No pods run here: the test plays the kubelet and writes the builder pod's
 * status itself, which makes the build's phases (pending, building, uploading, done, vanished) easy to stage.
 */
@EnableKubernetesMockClient(crud = true)
class NixekMachineImageReconcilerMockIT {
  static KubernetesClient client;
  static KubernetesMockServer server;

  private static final String NS = "images";
  private static final String SHA = "b".repeat(64);
  private static final String KVM = "devices.kubevirt.io/kvm";
  private S3ProxyServer s3;
  private FakeEc2 ec2;
  private Operator operator;
  private ImageModule module;

  @BeforeEach
  void start() {
    TestJobs.createCrds(client);
    s3 = S3ProxyServer.start();
    s3.createBucket("images");
    ec2 = FakeEc2.builder().importPolls(2).start();
    Map<String, String> env = new HashMap<>();
    env.put("NIXEK_USE_SSA", "false");
    env.put("NIXEK_CLUSTER_ID", "mock");
    env.put("NIXEK_AWS_REGION", "us-east-1");
    env.put("NIXEK_EC2_ENDPOINT", ec2.endpoint().toString());
    env.put("NIXEK_S3_ENDPOINT", s3.endpoint().toString());
    env.put("NIXEK_S3_PATH_STYLE", "true");
    env.put("NIXEK_IMAGE_BUCKET", "images");
    env.put("NIXEK_IMAGE_NIXPKGS", "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567");
    env.put("NIXEK_IMAGE_POLL_MIN_SECONDS", "1");
    env.put("NIXEK_IMAGE_POLL_MAX_SECONDS", "1");
    // KVM nodes as a cluster would offer them: a device plugin's resource behind a label and a taint
    env.put("NIXEK_BUILDER_KVM_RESOURCE", KVM);
    env.put("NIXEK_BUILDER_NODE_SELECTOR", "nixek.dev/kvm=true");
    env.put("NIXEK_BUILDER_TOLERATIONS", "[{\"key\":\"nixek.dev/kvm\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]");
    OperatorConfig config = OperatorConfig.fromEnv(env);
    module = ImageModule.create(config, client, Clock.systemUTC(), new EventRecorder(client, Clock.systemUTC()),
        StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())),
        ImageCrashPoints.NONE);
    operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
        .withUseSSAToPatchPrimaryResource(false).withSSABasedCreateUpdateMatchForDependentResources(false));
    operator.register(module.reconciler());
    operator.start();
  }

  @AfterEach
  void stop() {
    operator.stop();
    module.close();
    ec2.close();
    s3.close();
    client.resources(NixekMachineImage.class).inAnyNamespace().delete();
    client.pods().inAnyNamespace().delete();
  }

  @Test
  void theBuildsPhasesShowInTheReadyConditionAndTheStatusIsWrittenWithoutServerSideApply() throws Exception {
    create("phases", ImageTestEnv.uniqueMachine("phases"), null);
    Pod pod = awaitPod();
    // the pod can show before the status that started it is written: no condition yet is "not yet", not an error
    await().untilAsserted(() -> assertThat(message("phases")).contains("is pending"));
    assertThat(reason("phases")).isEqualTo("Building");

    setPodStatus(pod, "Running", null, null);
    await().untilAsserted(() -> assertThat(message("phases")).contains("is building the image"));

    // the pod writes a part through the grant the operator gave it: Uploading
    String hash = get("phases").getStatus().imageHash;
    String key = "nixek-images/mock/" + hash + "/disk-image";
    putPart(pod, 1, 4096);
    await().untilAsserted(() -> assertThat(reason("phases")).isEqualTo("Uploading"));

    setPodStatus(pod, "Succeeded", 0, result("images", key, 4096));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reason("phases")).isEqualTo("Ready"));
    NixekMachineImage image = get("phases");
    assertThat(image.getStatus().sha256).isEqualTo(SHA);
    assertThat(image.getStatus().bootMode).isEqualTo("uefi");
    assertThat(image.getStatus().observedGeneration).isEqualTo(image.getMetadata().getGeneration());
    assertThat(ec2.images()).singleElement().satisfies(i -> assertThat(i.bootMode()).isEqualTo("uefi"));
    assertThat(events("phases")).contains("BuildStarted", "ImportStarted", "ImageReady");
  }

  @Test
  void anInvalidSpecIsReportedWithAWarningAndStartsNothingUntilItIsFixed() {
    // the mock has no schema: what the CRD would reject reaches the operator, which names the field
    create("bad", ImageTestEnv.uniqueMachine("bad"), "riscv64-linux");
    await().untilAsserted(() -> assertThat(reason("bad")).isEqualTo("InvalidSpec"));
    assertThat(ready("bad").getStatus()).isEqualTo("False");
    assertThat(ready("bad").getMessage()).isEqualTo("invalid image, nothing built: spec.system: must be "
        + "x86_64-linux or aarch64-linux, not 'riscv64-linux'");
    assertThat(events("bad")).containsExactly("InvalidSpec");
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();

    NixekMachineImage image = get("bad");
    image.getSpec().system = "aarch64-linux";
    client.resources(NixekMachineImage.class).inNamespace(NS).resource(image).update();
    awaitPod();
    await().untilAsserted(() -> assertThat(reason("bad")).isEqualTo("Building"));
  }

  @Test
  void aBuilderPodThatVanishesWithoutAVerdictIsStartedAgain() {
    create("evicted", ImageTestEnv.uniqueMachine("evicted"), null);
    Pod pod = awaitPod();
    setPodStatus(pod, "Running", null, null);
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
    // a new pod of the same name (another uid), and a second BuildStarted
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Pod again = client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get();
      assertThat(again).isNotNull();
      assertThat(again.getMetadata().getUid()).isNotEqualTo(pod.getMetadata().getUid());
    });
    await().untilAsserted(() -> assertThat(client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "evicted".equals(e.getInvolvedObject().getName()) && "BuildStarted".equals(e.getReason()))
        .mapToInt(e -> e.getCount() == null ? 1 : e.getCount()).sum()).isEqualTo(2));
    assertThat(reason("evicted")).isEqualTo("Building");
  }

  @Test
  void aBuilderPodThatCannotStartLeavesTheImageBuildingWithTheCauseAndAWarning() {
    server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReturn(403, new StatusBuilder()
        .withStatus("Failure").withCode(403).withReason("Forbidden").withMessage("pods \"b\" is forbidden: exceeded "
            + "quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0").build()).times(2);
    create("refused", ImageTestEnv.uniqueMachine("refused"), null);
    await().untilAsserted(() -> assertThat(message("refused")).endsWith(" cannot be created: pods \"b\" is "
        + "forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0"));
    assertThat(reason("refused")).isEqualTo("Building");
    assertThat(events("refused")).containsExactly("BuildPending");

    // tried again on the backoff, the image untouched
    Pod pod = awaitPod();
    await().untilAsserted(() -> assertThat(message("refused")).contains("is pending"));
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).edit(p -> {
      p.setStatus(new PodStatusBuilder().withPhase("Pending").addNewContainerStatus().withName("builder")
          .withNewState().withNewWaiting().withReason("ImagePullBackOff").withMessage("Back-off pulling image")
          .endWaiting().endState().endContainerStatus().build());
      return p;
    });
    String stalled = "builder pod " + pod.getMetadata().getName() + " cannot pull its image "
        + pod.getSpec().getContainers().get(0).getImage() + " (ImagePullBackOff: Back-off pulling image)";
    await().untilAsserted(() -> assertThat(message("refused")).isEqualTo(stalled));
    await().untilAsserted(() -> assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("BuildPending");
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).isEqualTo(stalled);
        }));
  }

  @Test
  void aBuilderPodAsksForKvmWaitsForAKvmNodeAndEndsBuildFailedWithTheBuildersMessage() {
    create("kvm", ImageTestEnv.uniqueMachine("kvm"), null);
    Pod pod = awaitPod();
    assertThat(pod.getSpec().getContainers().get(0).getResources().getLimits().get(KVM)).hasToString("1");
    assertThat(pod.getSpec().getNodeSelector()).containsExactly(Map.entry("nixek.dev/kvm", "true"));
    assertThat(pod.getSpec().getTolerations()).singleElement()
        .satisfies(t -> assertThat(t.getKey()).isEqualTo("nixek.dev/kvm"));

    // no node offers the resource: the scheduler's reason is in the condition
    String unschedulable = "0/3 nodes are available: 3 Insufficient " + KVM + ".";
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).edit(p -> {
      p.setStatus(new PodStatusBuilder().withPhase("Pending").addNewCondition().withType("PodScheduled")
          .withStatus("False").withReason("Unschedulable").withMessage(unschedulable).endCondition().build());
      return p;
    });
    await().untilAsserted(() -> assertThat(message("kvm")).endsWith("cannot be scheduled: " + unschedulable));

    // the builder found no /dev/kvm and said so in its termination message (nixek-builder's KvmPreflight)
    String error = "this build needs KVM, but /dev/kvm does not exist in the builder pod: nixos-disk-image.drv "
        + "requires the system feature 'kvm' (nixpkgs builds disk images in a VM). Nothing was built; builder pods "
        + "get KVM from a device plugin: set NIXEK_BUILDER_KVM_RESOURCE (chart: builder.kvm.resource) ... See "
        + "docs/images.md#kvm";
    setPodStatus(pod, "Failed", 2, "{\"error\":\"" + error + "\",\"logTail\":\"\"}");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reason("kvm")).isEqualTo("BuildFailed"));
    assertThat(ready("kvm").getStatus()).isEqualTo("False");
    assertThat(message("kvm")).isEqualTo("builder pod " + pod.getMetadata().getName() + ": " + error);
    assertThat(events("kvm")).contains("BuildStarted", "BuildFailed");
  }

  @Test
  void aBuildersResultNamingAnotherBucketOrKeyOrSizeIsRefusedWithAWarning() throws Exception {
    create("liar", ImageTestEnv.uniqueMachine("liar"), null);
    Pod pod = awaitPod();
    String key = "nixek-images/mock/" + awaitBuilding("liar").getStatus().imageHash + "/disk-image";
    assertThat(grant(pod).get("key").asText()).isEqualTo(key);
    putPart(pod, 1, 4096);
    // an object of another namespace's identity, which a builder with credentials of its own could have written
    setPodStatus(pod, "Succeeded", 0, result("images", "nixek-images/mock/" + "c".repeat(64) + "/disk-image", 4096));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reason("liar")).isEqualTo("BuildFailed"));
    assertThat(message("liar")).contains("result refused").contains("s3://images/" + key);
    assertThat(ready("liar").getStatus()).isEqualTo("False");
    assertThat(warnings("liar")).contains("BuildFailed");
    assertThat(get("liar").getStatus().s3Uri).isNull();
    assertThat(ec2.count("ImportSnapshot")).isZero();

    create("other-bucket", ImageTestEnv.uniqueMachine("other-bucket"), null);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(NS).list().getItems().size() == 2);
    Pod second = client.pods().inNamespace(NS).list().getItems().stream()
        .filter(p -> !p.getMetadata().getName().equals(pod.getMetadata().getName())).findFirst().orElseThrow();
    String secondKey = "nixek-images/mock/" + awaitBuilding("other-bucket").getStatus().imageHash + "/disk-image";
    setPodStatus(second, "Succeeded", 0, result("elsewhere", secondKey, 4096));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reason("other-bucket"))
        .isEqualTo("BuildFailed"));
    assertThat(message("other-bucket")).contains("s3://elsewhere/" + secondKey).contains("result refused");

    // the right key, but more bytes than the upload holds
    create("too-big", ImageTestEnv.uniqueMachine("too-big"), null);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(NS).list().getItems().size() == 3);
    String thirdPod = awaitBuilding("too-big").getStatus().builderPod;
    Pod third = client.pods().inNamespace(NS).list().getItems().stream()
        .filter(p -> p.getMetadata().getName().equals(thirdPod)).findFirst()
        .orElseThrow();
    putPart(third, 1, 4096);
    String thirdKey = "nixek-images/mock/" + get("too-big").getStatus().imageHash + "/disk-image";
    setPodStatus(third, "Succeeded", 0, result("images", thirdKey, 8192));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reason("too-big")).isEqualTo("BuildFailed"));
    assertThat(message("too-big")).contains("reports 8192 bytes, but its upload holds 4096 bytes");
    assertThat(ec2.count("ImportSnapshot")).isZero();
    assertThat(s3.s3Client().listObjectsV2(r -> r.bucket("images")).contents()).isEmpty();
  }

  /** The image once its builder pod is recorded. */
  private NixekMachineImage awaitBuilding(String name) {
    await().atMost(Duration.ofSeconds(30)).until(() -> get(name).getStatus() != null
        && get(name).getStatus().builderPod != null);
    return get(name);
  }

  private static String result(String bucket, String key, long size) {
    return "{\"bucket\":\"" + bucket + "\",\"key\":\"" + key + "\",\"size\":" + size + ",\"sha256\":\"" + SHA
        + "\",\"drvPath\":\"/nix/store/x-image.drv\",\"format\":\"VHD\",\"bootMode\":\"uefi\"}";
  }

  /** The upload grant the operator gave {@code pod} (its Secret). */
  private com.fasterxml.jackson.databind.JsonNode grant(Pod pod) throws Exception {
    String secret = pod.getSpec().getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow()
        .getSecret().getSecretName();
    String json = new String(java.util.Base64.getDecoder().decode(client.secrets().inNamespace(NS).withName(secret)
        .get().getData().get("upload.json")), java.nio.charset.StandardCharsets.UTF_8);
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
  }

  /** Sends part {@code number} of {@code size} bytes through the pod's grant, as its builder would. */
  private void putPart(Pod pod, int number, int size) throws Exception {
    java.net.URI url = java.net.URI.create(grant(pod).get("urls").get(number - 1).asText());
    var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(url)
        .PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[size])).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  private List<String> warnings(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).filter(e -> "Warning".equals(e.getType()))
        .map(Event::getReason).toList();
  }

  private void create(String name, String machine, String system) {
    NixekMachineImage image = ImageTestEnv.image(NS, name, machine);
    image.getSpec().system = system;
    client.resources(NixekMachineImage.class).inNamespace(NS).resource(image).create();
  }

  private Pod awaitPod() {
    await().atMost(Duration.ofSeconds(30)).until(() -> !client.pods().inNamespace(NS).list().getItems().isEmpty());
    return client.pods().inNamespace(NS).list().getItems().get(0);
  }

  private void setPodStatus(Pod pod, String phase, Integer exitCode, String message) {
    PodStatusBuilder status = new PodStatusBuilder().withPhase(phase);
    if (exitCode != null) {
      status.addNewContainerStatus().withName("builder").withNewState().withNewTerminated().withExitCode(exitCode)
          .withMessage(message).endTerminated().endState().endContainerStatus();
    }
    client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).edit(p -> {
      p.setStatus(status.build());
      return p;
    });
  }

  private NixekMachineImage get(String name) {
    return client.resources(NixekMachineImage.class).inNamespace(NS).withName(name).get();
  }

  private Condition ready(String name) {
    return RealApiServerTier.ready(get(name));
  }

  private String message(String name) {
    Condition c = ready(name);
    return c == null ? null : c.getMessage();
  }

  private String reason(String name) {
    Condition c = ready(name);
    return c == null ? null : c.getReason();
  }

  private List<String> events(String name) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).map(Event::getReason).toList();
  }
}
