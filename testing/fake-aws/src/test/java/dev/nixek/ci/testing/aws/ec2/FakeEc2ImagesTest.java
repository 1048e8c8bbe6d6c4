package dev.nixek.ci.testing.aws.ec2;

import static dev.nixek.ci.testing.aws.ec2.Ec2Fixtures.assertEc2Error;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ArchitectureValues;
import software.amazon.awssdk.services.ec2.model.BootModeValues;
import software.amazon.awssdk.services.ec2.model.DeregisterImageResponse;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.ImageState;
import software.amazon.awssdk.services.ec2.model.ImdsSupportValues;
import software.amazon.awssdk.services.ec2.model.ImportSnapshotRequest;
import software.amazon.awssdk.services.ec2.model.ImportSnapshotResponse;
import software.amazon.awssdk.services.ec2.model.ImportSnapshotTask;
import software.amazon.awssdk.services.ec2.model.RegisterImageRequest;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Snapshot;
import software.amazon.awssdk.services.ec2.model.SnapshotState;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.VolumeType;

/** ImportSnapshot → DescribeImportSnapshotTasks → RegisterImage → DescribeImages/Snapshots, through the SDK. */
@SuppressWarnings("unchecked") // the SDK's Consumer<...>... varargs
class FakeEc2ImagesTest {

    private static final long THREE_GIB_AND_A_BIT = 3L * (1L << 30) + 5;

    private FakeEc2 fake;
    private Ec2Client ec2;

    @BeforeEach
    void start() {
        fake = FakeEc2.builder()
                .s3ObjectLookup(S3ObjectLookup.of(Map.of("images/nixos/abc.raw", THREE_GIB_AND_A_BIT)))
                .start();
        ec2 = fake.ec2Client();
    }

    @AfterEach
    void stop() {
        ec2.close();
        fake.close();
    }

    private static Tag tag(String k, String v) {
        return Tag.builder().key(k).value(v).build();
    }

    private static ImportSnapshotRequest.Builder importRequest(String token) {
        return ImportSnapshotRequest.builder()
                .clientToken(token)
                .description("nixek image abc")
                .roleName("vmimport")
                .diskContainer(d -> d.format("RAW").userBucket(u -> u.s3Bucket("images").s3Key("nixos/abc.raw")))
                .tagSpecifications(t -> t.resourceType(ResourceType.IMPORT_SNAPSHOT_TASK).tags(tag("nixek.dev/image-hash", "abc")));
    }

    private ImportSnapshotTask poll(String taskId) {
        List<ImportSnapshotTask> tasks = ec2.describeImportSnapshotTasks(r -> r.importTaskIds(taskId)).importSnapshotTasks();
        assertThat(tasks).hasSize(1);
        return tasks.get(0);
    }

    private RegisterImageRequest.Builder register(String name, String snapshotId) {
        return RegisterImageRequest.builder().name(name).architecture(ArchitectureValues.X86_64)
                .rootDeviceName("/dev/xvda").enaSupport(true).bootMode(BootModeValues.UEFI)
                .imdsSupport(ImdsSupportValues.V2_0).virtualizationType("hvm")
                .blockDeviceMappings(b -> b.deviceName("/dev/xvda")
                        .ebs(e -> e.snapshotId(snapshotId).volumeType(VolumeType.GP3).volumeSize(8).deleteOnTermination(true)))
                .tagSpecifications(t -> t.resourceType(ResourceType.IMAGE).tags(tag("nixek.dev/image-hash", "abc")));
    }

    @Test
    void importTaskProgressesOverThreePollsThenNamesItsSnapshot() {
        ImportSnapshotResponse started = ec2.importSnapshot(importRequest("hash-abc").build());
        String taskId = started.importTaskId();
        assertThat(taskId).matches("import-snap-[0-9a-f]{17}");
        assertThat(started.snapshotTaskDetail().status()).isEqualTo("active");
        assertThat(started.snapshotTaskDetail().statusMessage()).isEqualTo("pending");
        assertThat(started.snapshotTaskDetail().userBucket().s3Bucket()).isEqualTo("images");
        assertThat(started.snapshotTaskDetail().userBucket().s3Key()).isEqualTo("nixos/abc.raw");
        assertThat(started.snapshotTaskDetail().format()).isEqualTo("RAW");
        assertThat(started.tags()).containsExactly(tag("nixek.dev/image-hash", "abc"));

        ImportSnapshotTask p1 = poll(taskId);
        assertThat(p1.snapshotTaskDetail().status()).isEqualTo("active");
        assertThat(p1.snapshotTaskDetail().statusMessage()).isEqualTo("downloading/converting");
        assertThat(p1.snapshotTaskDetail().progress()).isEqualTo("33");
        assertThat(p1.snapshotTaskDetail().snapshotId()).isNull();
        assertThat(p1.snapshotTaskDetail().diskImageSize()).isEqualTo((double) THREE_GIB_AND_A_BIT);
        ImportSnapshotTask p2 = poll(taskId);
        assertThat(p2.snapshotTaskDetail().status()).isEqualTo("active");
        assertThat(p2.snapshotTaskDetail().progress()).isEqualTo("66");
        assertThat(fake.snapshots()).isEmpty();

        ImportSnapshotTask done = poll(taskId);
        assertThat(done.snapshotTaskDetail().status()).isEqualTo("completed");
        assertThat(done.snapshotTaskDetail().statusMessage()).isNull();
        String snapshotId = done.snapshotTaskDetail().snapshotId();
        assertThat(snapshotId).matches("snap-[0-9a-f]{17}");
        assertThat(poll(taskId).snapshotTaskDetail().snapshotId()).as("stable once completed").isEqualTo(snapshotId);
        assertThat(done.tags()).containsExactly(tag("nixek.dev/image-hash", "abc"));

        Snapshot snap = ec2.describeSnapshots(r -> r.snapshotIds(snapshotId)).snapshots().get(0);
        assertThat(snap.state()).isEqualTo(SnapshotState.COMPLETED);
        assertThat(snap.volumeSize()).as("rounded up to whole GiB").isEqualTo(4);
        assertThat(snap.ownerId()).isEqualTo(fake.accountId());
        assertThat(snap.description()).contains(taskId);

        // the imported snapshot carries no tags until the caller tags it (only the task was tagged)
        assertThat(snap.tags()).isEmpty();
        ec2.createTags(r -> r.resources(snapshotId, taskId).tags(tag("nixek.dev/managed-by", "nixek")));
        assertThat(ec2.describeSnapshots(r -> r.filters(f -> f.name("tag:nixek.dev/managed-by").values("nixek")))
                .snapshots()).extracting(Snapshot::snapshotId).containsExactly(snapshotId);
        assertThat(poll(taskId).tags()).contains(tag("nixek.dev/managed-by", "nixek"));

        // the task list without ids, and the tag filter on tasks
        assertThat(ec2.describeImportSnapshotTasks(r -> r.filters(f -> f.name("tag:nixek.dev/image-hash").values("abc")))
                .importSnapshotTasks()).extracting(ImportSnapshotTask::importTaskId).containsExactly(taskId);
        assertThat(ec2.describeImportSnapshotTasks(r -> r.filters(f -> f.name("tag:nixek.dev/image-hash").values("zzz")))
                .importSnapshotTasks()).isEmpty();
    }

    @Test
    void importPollCountIsConfigurableAndSnapshotTagSpecificationsApply() {
        try (FakeEc2 f = FakeEc2.builder().importPolls(1).start(); Ec2Client c = f.ec2Client()) {
            String taskId = c.importSnapshot(importRequest("one-poll")
                    .tagSpecifications(t -> t.resourceType(ResourceType.SNAPSHOT).tags(tag("kind", "root"))).build())
                    .importTaskId();
            ImportSnapshotTask done = c.describeImportSnapshotTasks(r -> r.importTaskIds(taskId)).importSnapshotTasks().get(0);
            assertThat(done.snapshotTaskDetail().status()).isEqualTo("completed");
            String snap = done.snapshotTaskDetail().snapshotId();
            assertThat(c.describeSnapshots(r -> r.snapshotIds(snap)).snapshots().get(0).tags()).containsExactly(tag("kind", "root"));
        }
    }

    @Test
    void importClientTokenIsIdempotent() {
        String first = ec2.importSnapshot(importRequest("hash-1").build()).importTaskId();
        assertThat(ec2.importSnapshot(importRequest("hash-1").build()).importTaskId()).isEqualTo(first);
        assertThat(fake.importTasks()).hasSize(1);
        assertEc2Error(() -> ec2.importSnapshot(importRequest("hash-1").description("other").build()),
                "IdempotentParameterMismatch", 400);
    }

    @Test
    void importRefusesAMissingS3Object() {
        assertEc2Error(() -> ec2.importSnapshot(importRequest("missing")
                .diskContainer(d -> d.format("RAW").userBucket(u -> u.s3Bucket("images").s3Key("nope.raw"))).build()),
                "InvalidParameter", 400)
                .hasMessageContaining("User does not have access to the S3 object (images/nope.raw)");
        assertEc2Error(() -> ec2.importSnapshot(importRequest("fmt")
                .diskContainer(d -> d.format("QCOW2").userBucket(u -> u.s3Bucket("images").s3Key("nixos/abc.raw"))).build()),
                "InvalidParameter", 400);
        assertEc2Error(() -> ec2.importSnapshot(importRequest("tagtype")
                .tagSpecifications(t -> t.resourceType(ResourceType.INSTANCE).tags(tag("a", "b"))).build()),
                "InvalidParameterValue", 400);
        assertThat(fake.importTasks()).isEmpty();
        // the Url form of the disk container is looked up too
        String ok = ec2.importSnapshot(importRequest("url").diskContainer(d -> d.format("RAW").url("s3://images/nixos/abc.raw"))
                .build()).importTaskId();
        assertThat(fake.importTasks()).extracting(Views.ImportTaskView::importTaskId).containsExactly(ok);
    }

    @Test
    void failNextImportEndsTheTaskDeletedWithTheMessage() {
        fake.failNextImport("ClientError: Disk validation failed [Unsupported specified file format]");
        String failed = ec2.importSnapshot(importRequest("bad").build()).importTaskId();
        String fine = ec2.importSnapshot(importRequest("good").build()).importTaskId();
        poll(failed);
        poll(failed);
        ImportSnapshotTask last = poll(failed);
        assertThat(last.snapshotTaskDetail().status()).isEqualTo("deleted");
        assertThat(last.snapshotTaskDetail().statusMessage()).isEqualTo("ClientError: Disk validation failed [Unsupported specified file format]");
        assertThat(last.snapshotTaskDetail().snapshotId()).isNull();
        poll(fine);
        poll(fine);
        assertThat(poll(fine).snapshotTaskDetail().status()).as("only the next import fails").isEqualTo("completed");
        assertThat(fake.snapshots()).hasSize(1);
    }

    @Test
    void unknownImportTaskIsAnError() {
        assertEc2Error(() -> ec2.describeImportSnapshotTasks(r -> r.importTaskIds("import-snap-0123456789abcdef0")),
                "InvalidConversionTaskId", 400);
    }

    @Test
    void registerDescribeDeregisterImagesAndSnapshotsInUse() {
        String snap = fake.seedSnapshot(8, Map.of());
        String ami = ec2.registerImage(register("nixek-abc", snap).build()).imageId();
        assertThat(ami).matches("ami-[0-9a-f]{17}");

        Image img = ec2.describeImages(r -> r.imageIds(ami)).images().get(0);
        assertThat(img.name()).isEqualTo("nixek-abc");
        assertThat(img.state()).isEqualTo(ImageState.AVAILABLE);
        assertThat(img.ownerId()).isEqualTo(fake.accountId());
        assertThat(img.architecture()).isEqualTo(ArchitectureValues.X86_64);
        assertThat(img.rootDeviceName()).isEqualTo("/dev/xvda");
        assertThat(img.enaSupport()).isTrue();
        assertThat(img.bootMode()).isEqualTo(BootModeValues.UEFI);
        assertThat(img.imdsSupport()).isEqualTo(ImdsSupportValues.V2_0);
        assertThat(img.virtualizationTypeAsString()).isEqualTo("hvm");
        assertThat(img.tags()).containsExactly(tag("nixek.dev/image-hash", "abc"));
        assertThat(img.blockDeviceMappings()).singleElement().satisfies(b -> {
            assertThat(b.deviceName()).isEqualTo("/dev/xvda");
            assertThat(b.ebs().snapshotId()).isEqualTo(snap);
            assertThat(b.ebs().volumeType()).isEqualTo(VolumeType.GP3);
            assertThat(b.ebs().volumeSize()).isEqualTo(8);
            assertThat(b.ebs().deleteOnTermination()).isTrue();
        });
        assertThat(img.creationDate()).isNotBlank();

        // look-ups the operator does: by name with Owners=self, by tag, by tag-key
        assertThat(ec2.describeImages(r -> r.owners("self").filters(f -> f.name("name").values("nixek-abc"))).images())
                .extracting(Image::imageId).containsExactly(ami);
        assertThat(ec2.describeImages(r -> r.owners("self").filters(f -> f.name("name").values("nixek-*"))).images())
                .extracting(Image::imageId).containsExactly(ami);
        assertThat(ec2.describeImages(r -> r.owners("self").filters(f -> f.name("name").values("other"))).images()).isEmpty();
        assertThat(ec2.describeImages(r -> r.filters(f -> f.name("tag:nixek.dev/image-hash").values("abc"))).images())
                .extracting(Image::imageId).containsExactly(ami);
        assertThat(ec2.describeImages(r -> r.filters(f -> f.name("tag-key").values("nixek.dev/image-hash"))).images())
                .hasSize(1);
        assertThat(ec2.describeImages(r -> r.owners("amazon")).images()).isEmpty();
        assertThat(ec2.describeImages(r -> r.owners(fake.accountId())).images()).hasSize(1);
        assertEc2Error(() -> ec2.describeImages(r -> r.imageIds("ami-0123456789abcdef0")), "InvalidAMIID.NotFound", 400);

        assertEc2Error(() -> ec2.registerImage(register("nixek-abc", snap).build()), "InvalidAMIName.Duplicate", 400)
                .hasMessageContaining(ami);
        assertEc2Error(() -> ec2.registerImage(register("x", snap).build()), "InvalidAMIName.Malformed", 400);
        assertEc2Error(() -> ec2.registerImage(register("nixek-nosnap", "snap-0123456789abcdef0").build()),
                "InvalidSnapshot.NotFound", 400);

        // the snapshot is in use while the image is registered
        assertEc2Error(() -> ec2.deleteSnapshot(r -> r.snapshotId(snap)), "InvalidSnapshot.InUse", 400)
                .hasMessageContaining(ami);
        ec2.deregisterImage(r -> r.imageId(ami));
        assertThat(ec2.describeImages(r -> r.owners("self")).images()).isEmpty();
        assertEc2Error(() -> ec2.deregisterImage(r -> r.imageId(ami)), "InvalidAMIID.NotFound", 400);
        ec2.deleteSnapshot(r -> r.snapshotId(snap));
        assertEc2Error(() -> ec2.describeSnapshots(r -> r.snapshotIds(snap)), "InvalidSnapshot.NotFound", 400);
        assertEc2Error(() -> ec2.deleteSnapshot(r -> r.snapshotId(snap)), "InvalidSnapshot.NotFound", 400);

        // the name is free again
        assertThat(ec2.registerImage(register("nixek-abc", fake.seedSnapshot(8, Map.of())).build()).imageId())
                .isNotEqualTo(ami);
    }

    @Test
    void deregisterCanDeleteTheAssociatedSnapshots() {
        String snap = fake.seedSnapshot(8, Map.of());
        String ami = ec2.registerImage(register("nixek-del", snap).build()).imageId();
        DeregisterImageResponse r = ec2.deregisterImage(b -> b.imageId(ami).deleteAssociatedSnapshots(true));
        assertThat(r.returnValue()).isTrue();
        assertThat(r.deleteSnapshotResults()).singleElement().satisfies(d -> {
            assertThat(d.snapshotId()).isEqualTo(snap);
            assertThat(d.returnCodeAsString()).isEqualTo("success");
        });
        assertThat(fake.snapshots()).isEmpty();
    }

    @Test
    void registerImageChecksTheRootDeviceAndVolumeSize() {
        String snap = fake.seedSnapshot(8, Map.of());
        assertEc2Error(() -> ec2.registerImage(register("nixek-small", snap)
                .blockDeviceMappings(b -> b.deviceName("/dev/xvda").ebs(e -> e.snapshotId(snap).volumeSize(4))).build()),
                "InvalidBlockDeviceMapping", 400);
        assertEc2Error(() -> ec2.registerImage(register("nixek-noroot", snap).rootDeviceName("/dev/sda1").build()),
                "InvalidBlockDeviceMapping", 400);
        assertEc2Error(() -> ec2.registerImage(register("nixek-tagtype", snap)
                .tagSpecifications(t -> t.resourceType(ResourceType.SNAPSHOT).tags(tag("a", "b"))).build()),
                "InvalidParameterValue", 400);
        assertThat(fake.images()).isEmpty();
    }

    @Test
    void describeSnapshotsByOwnerAndTags() {
        String a = fake.seedSnapshot(1, Map.of("role", "root"));
        String b = fake.seedSnapshot(2, Map.of("role", "data"));
        assertThat(ec2.describeSnapshots(r -> r.ownerIds("self")).snapshots()).extracting(Snapshot::snapshotId)
                .containsExactly(a, b);
        assertThat(ec2.describeSnapshots(r -> r.ownerIds("self").filters(f -> f.name("tag:role").values("data")))
                .snapshots()).extracting(Snapshot::snapshotId).containsExactly(b);
        assertThat(ec2.describeSnapshots(r -> r.filters(f -> f.name("tag-key").values("role"))).snapshots()).hasSize(2);
        assertThat(ec2.describeSnapshots(r -> r.ownerIds("999999999999")).snapshots()).isEmpty();
        ec2.deleteTags(r -> r.resources(a).tags(Tag.builder().key("role").build()));
        assertThat(ec2.describeSnapshots(r -> r.snapshotIds(a)).snapshots().get(0).tags()).isEmpty();
    }
}
