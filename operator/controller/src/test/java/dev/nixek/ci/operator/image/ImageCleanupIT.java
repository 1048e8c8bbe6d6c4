package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import dev.nixek.ci.operator.testing.ImageBootingProvider;
import dev.nixek.ci.operator.testing.TestJobs;
import dev.nixek.ci.testing.aws.ec2.Views;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * What happens to an image's AWS resources when it goes: the cleaner removes them unless another image shares them;
 * the collector removes this cluster's resources no live image references; inline machines' images go some time
 * after the last job using them.
 */
class ImageCleanupIT extends RealApiServerTier {

  @Test
  void deletingTheLastImageOfAnIdentityDeregistersTheAmiAndDeletesTheSnapshotAndTheObject() throws Exception {
    operator.start();
    String machine = ImageTestEnv.uniqueMachine("deletion");
    create(ImageTestEnv.image(ns, "a", machine));
    NixekMachineImage a = awaitReady("a");
    env.built(a.getStatus().drvPath);
    create(ImageTestEnv.image(ns, "b", machine));
    awaitReady("b");
    String key = a.getStatus().s3Uri.substring(("s3://" + ImageTestEnv.BUCKET + "/").length());

    delete("a");
    await().atMost(Duration.ofSeconds(30)).until(() -> get("a") == null);
    assertThat(env.ec2.images()).as("b still uses the AMI").extracting(Views.ImageView::imageId)
        .containsExactly(a.getStatus().imageId);
    assertThat(env.ec2.snapshots()).hasSize(1);
    assertThat(env.objectExists(ImageTestEnv.BUCKET, key)).isTrue();

    delete("b");
    await().atMost(Duration.ofSeconds(30)).until(() -> get("b") == null);
    // the finalizer held the object until the cleaner was done
    assertThat(env.ec2.images()).isEmpty();
    assertThat(env.ec2.snapshots()).isEmpty();
    assertThat(env.objectExists(ImageTestEnv.BUCKET, key)).isFalse();
    assertThat(env.ec2.count("DeregisterImage")).isEqualTo(1);
  }

  @Test
  void anAmiRegisteredButNeverRecordedIsDeregisteredWhenItsImageIsDeleted() throws Exception {
    CrashAt crash = new CrashAt(ImageCrashPoints.Point.IMAGE_REGISTERED);
    operator.start(crash);
    create(ImageTestEnv.image(ns, "unrecorded", ImageTestEnv.uniqueMachine("unrecorded")));
    assertThat(crash.awaitCrash(90)).isTrue();
    operator.stop();
    NixekMachineImage image = get("unrecorded");
    env.built(image.getStatus().drvPath);
    assertThat(image.getStatus().imageId).isNull();
    assertThat(env.ec2.images()).hasSize(1);

    // deleted while the operator is down; the new one cleans up what the status never recorded
    delete("unrecorded");
    operator.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> get("unrecorded") == null);
    assertThat(env.ec2.images()).isEmpty();
    assertThat(env.ec2.snapshots()).isEmpty();
  }

  @Test
  void theCollectorRemovesOnlyThisClustersUnreferencedResourcesAndOnlyAfterTheGracePeriod() throws Exception {
    operator.start();
    create(ImageTestEnv.image(ns, "live", ImageTestEnv.uniqueMachine("live")));
    NixekMachineImage live = awaitReady("live");
    env.built(live.getStatus().drvPath);

    Map<String, String> ours = Map.of("nixek.dev/cluster-id", ImageTestEnv.CLUSTER,
        "nixek.dev/managed-by", "nixek-ci", "nixek.dev/image-hash", "0".repeat(64));
    String orphanSnapshot = env.ec2.seedSnapshot(1, ours);
    String orphanAmi = env.ec2.seedImage("nixek-it-orphan", orphanSnapshot, ours);
    Map<String, String> theirs = new HashMap<>(ours);
    theirs.put("nixek.dev/cluster-id", "other");
    String foreignSnapshot = env.ec2.seedSnapshot(1, theirs);
    String foreignAmi = env.ec2.seedImage("nixek-other-orphan", foreignSnapshot, theirs);
    String orphanKey = "nixek-images/it/" + "0".repeat(64) + "/disk.raw";
    env.s3.s3Client().putObject(r -> r.bucket(ImageTestEnv.BUCKET).key(orphanKey), RequestBody.fromString("x"));
    String foreignKey = "somebody-else/disk.raw";
    env.s3.s3Client().putObject(r -> r.bucket(ImageTestEnv.BUCKET).key(foreignKey), RequestBody.fromString("x"));

    // an import of this cluster that completed, but whose snapshot was never tagged (the operator died first)
    String untaggedSnapshot;
    try (var ec2 = env.ec2.ec2Client()) {
      String task = ec2.importSnapshot(r -> r.clientToken("collector-test").diskContainer(d -> d.format("RAW")
          .userBucket(u -> u.s3Bucket(ImageTestEnv.BUCKET).s3Key(orphanKey)))
          .tagSpecifications(TagSpecification.builder().resourceType("import-snapshot-task").tags(ours.entrySet()
              .stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList()).build()))
          .importTaskId();
      untaggedSnapshot = await().until(() -> ec2.describeImportSnapshotTasks(r -> r.importTaskIds(task))
          .importSnapshotTasks().get(0).snapshotTaskDetail().snapshotId(), id -> id != null);
    }
    assertThat(env.ec2.snapshots()).filteredOn(v -> v.snapshotId().equals(untaggedSnapshot))
        .singleElement().satisfies(v -> assertThat(v.tags()).isEmpty());

    // within the grace period nothing goes
    ImageCollector.Result young = collector(Instant.now()).collect();
    assertThat(young.total()).isZero();

    ImageCollector.Result result = collector(Instant.now().plus(Duration.ofHours(2))).collect();
    assertThat(result.deregistered()).containsExactly(orphanAmi);
    assertThat(result.deletedSnapshots()).containsExactlyInAnyOrder(orphanSnapshot, untaggedSnapshot);
    assertThat(result.deletedObjects()).containsExactly("s3://" + ImageTestEnv.BUCKET + "/" + orphanKey);
    assertThat(env.ec2.images()).extracting(Views.ImageView::imageId)
        .containsExactlyInAnyOrder(live.getStatus().imageId, foreignAmi);
    assertThat(env.ec2.snapshots()).extracting(Views.SnapshotView::snapshotId)
        .containsExactlyInAnyOrder(live.getStatus().snapshotId, foreignSnapshot);
    assertThat(env.objectExists(ImageTestEnv.BUCKET, foreignKey)).isTrue();
    assertThat(env.objectExists(ImageTestEnv.BUCKET,
        live.getStatus().s3Uri.substring(("s3://" + ImageTestEnv.BUCKET + "/").length()))).isTrue();
    assertThat(ready(get("live")).getStatus()).isEqualTo("True");
  }

  @Test
  void theCollectorEndsUploadsAndStagingBundlesNoBuilderCanStillFinishAndLeavesTheCachesFiles() throws Exception {
    OperatorConfig config = OperatorConfig.fromEnv(env.operatorEnv(ns, Map.of("NIXEK_CACHE_ENABLED", "true")));
    var s3 = env.s3.s3Client();
    String bucket = ImageTestEnv.BUCKET;
    // an image upload and a cache staging upload a crash left open, each with a part
    String imageKey = "nixek-images/it/" + "1".repeat(64) + "/disk.raw";
    String stagingUploadKey = "nixek-cache/it/" + ns + "/staging/nixek-grant-a.zip";
    for (String key : java.util.List.of(imageKey, stagingUploadKey)) {
      String id = s3.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId();
      s3.uploadPart(r -> r.bucket(bucket).key(key).uploadId(id).partNumber(1), RequestBody.fromString("part"));
    }
    // a completed bundle never published, and what the cache serves
    String bundle = "nixek-cache/it/" + ns + "/staging/nixek-grant-b.zip";
    String narinfo = "nixek-cache/it/" + ns + "/0123456789abcdfghijklmnpqrsvwxyz.narinfo";
    String nar = "nixek-cache/it/" + ns + "/nar/0123.nar.xz";
    String otherCluster = "nixek-cache/other/" + ns + "/staging/nixek-grant-c.zip";
    for (String key : java.util.List.of(bundle, narinfo, nar, otherCluster)) {
      s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromString("x"));
    }

    // a builder could still be writing (its deadline, the grant's margin and the grace period not all past)
    Instant now = Instant.now();
    Duration stale = config.images().builderTimeout().plus(ImageCollector.UPLOAD_GRANT_MARGIN)
        .plus(config.images().gcGrace());
    ImageCollector.Result young = collector(config, now.plus(stale).minus(Duration.ofMinutes(1))).collect();
    assertThat(young.abortedUploads()).isEmpty();
    assertThat(young.deletedObjects()).isEmpty();
    assertThat(s3.listMultipartUploads(r -> r.bucket(bucket)).uploads()).hasSize(2);

    ImageCollector.Result old = collector(config, now.plus(stale).plus(Duration.ofMinutes(1))).collect();
    assertThat(old.abortedUploads()).hasSize(2).anySatisfy(u -> assertThat(u).startsWith("s3://" + bucket + "/"
        + imageKey)).anySatisfy(u -> assertThat(u).startsWith("s3://" + bucket + "/" + stagingUploadKey));
    assertThat(old.deletedObjects()).containsExactly("s3://" + bucket + "/" + bundle);
    assertThat(s3.listMultipartUploads(r -> r.bucket(bucket)).uploads()).isEmpty();
    assertThat(env.objectExists(bucket, bundle)).isFalse();
    assertThat(env.objectExists(bucket, narinfo)).isTrue();
    assertThat(env.objectExists(bucket, nar)).isTrue();
    assertThat(env.objectExists(bucket, otherCluster)).as("another cluster's").isTrue();

    // with the cache off, its prefix is not this operator's to clean
    s3.putObject(r -> r.bucket(bucket).key(bundle), RequestBody.fromString("x"));
    OperatorConfig off = OperatorConfig.fromEnv(env.operatorEnv(ns, Map.of()));
    assertThat(collector(off, now.plus(stale).plus(Duration.ofMinutes(1))).collect().deletedObjects()).isEmpty();
    assertThat(env.objectExists(bucket, bundle)).isTrue();
  }

  @Test
  void anInlineMachinesImageGoesAfterTheRetentionOnceNoJobUsesIt() throws Exception {
    FakeMachineProvider machines = new FakeMachineProvider();
    operator = new ImageOperator(client, env, ns, Map.of(), new ImageBootingProvider(machines)).start();
    NixekJob job = TestJobs.job(ns, "inline", TestJobs.run("build", "make"));
    job.getSpec().machine = ImageTestEnv.uniqueMachine("inline retention");
    client.resources(NixekJob.class).inNamespace(ns).resource(job).create();
    await().atMost(Duration.ofSeconds(90)).until(() -> !machines.launched().isEmpty());
    String name = ContentAddressedImageResolver.inlineImageName(job, operator.config().images()).orElseThrow();
    NixekMachineImage image = get(name);
    env.built(image.getStatus().drvPath);

    Instant now = Instant.now();
    InlineImageCollector used = inlineCollector(now);
    assertThat(used.collect()).isEmpty();
    assertThat(annotations(name)).doesNotContainKey(ContentAddressedImageResolver.UNREFERENCED_SINCE);

    client.resources(NixekJob.class).inNamespace(ns).withName("inline").delete();
    await().atMost(Duration.ofSeconds(30)).until(() ->
        client.resources(NixekJob.class).inNamespace(ns).withName("inline").get() == null);
    assertThat(inlineCollector(now).collect()).isEmpty();
    assertThat(annotations(name)).containsKey(ContentAddressedImageResolver.UNREFERENCED_SINCE);
    // not yet: the retention (1 day by default) has not passed
    assertThat(inlineCollector(now.plus(Duration.ofHours(23))).collect()).isEmpty();

    assertThat(inlineCollector(now.plus(Duration.ofHours(25))).collect()).containsExactly(ns + "/" + name);
    await().atMost(Duration.ofSeconds(30)).until(() -> get(name) == null);
    // its cleaner ran: no other image shares the AMI
    assertThat(env.ec2.images()).isEmpty();
    assertThat(env.ec2.snapshots()).isEmpty();
  }

  @Test
  void aJobThatUsesAMarkedInlineImageUnmarksIt() throws Exception {
    FakeMachineProvider machines = new FakeMachineProvider();
    operator = new ImageOperator(client, env, ns, Map.of(), new ImageBootingProvider(machines)).start();
    String machine = ImageTestEnv.uniqueMachine("unmark");
    NixekJob first = TestJobs.job(ns, "first", TestJobs.run("build", "make"));
    first.getSpec().machine = machine;
    client.resources(NixekJob.class).inNamespace(ns).resource(first).create();
    await().atMost(Duration.ofSeconds(90)).until(() -> machines.launched().size() == 1);
    String name = ContentAddressedImageResolver.inlineImageName(first, operator.config().images()).orElseThrow();
    env.built(get(name).getStatus().drvPath);
    client.resources(NixekJob.class).inNamespace(ns).withName("first").delete();
    await().atMost(Duration.ofSeconds(30)).until(() ->
        client.resources(NixekJob.class).inNamespace(ns).withName("first").get() == null);
    inlineCollector(Instant.now()).collect();
    String markedVersion = get(name).getMetadata().getResourceVersion();
    assertThat(annotations(name)).containsKey(ContentAddressedImageResolver.UNREFERENCED_SINCE);

    NixekJob second = TestJobs.job(ns, "second", TestJobs.run("build", "make"));
    second.getSpec().machine = machine;
    client.resources(NixekJob.class).inNamespace(ns).resource(second).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> machines.launched().size() == 2);
    assertThat(annotations(name)).doesNotContainKey(ContentAddressedImageResolver.UNREFERENCED_SINCE);
    assertThat(get(name).getMetadata().getResourceVersion()).isNotEqualTo(markedVersion);
    assertThat(kubelet.started()).as("one build for both jobs").hasSize(1);
  }

  private ImageCollector collector(Instant at) {
    return collector(operator.config(), at);
  }

  private ImageCollector collector(OperatorConfig config, Instant at) {
    return new ImageCollector(client, config, new AwsClients(config.aws(), env.credentials()),
        Clock.fixed(at, ZoneOffset.UTC));
  }

  private InlineImageCollector inlineCollector(Instant at) {
    return new InlineImageCollector(client, operator.config(), Clock.fixed(at, ZoneOffset.UTC));
  }

  private Map<String, String> annotations(String name) {
    Map<String, String> a = get(name).getMetadata().getAnnotations();
    return a == null ? Map.of() : a;
  }
}
