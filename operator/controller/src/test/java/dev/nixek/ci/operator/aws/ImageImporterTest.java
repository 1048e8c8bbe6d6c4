package dev.nixek.ci.operator.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.operator.aws.ImageImporter.ImportRequest;
import dev.nixek.ci.operator.aws.ImageImporter.RegisterRequest;
import dev.nixek.ci.operator.aws.ImageImporter.TaskState;
import dev.nixek.ci.testing.aws.S3ObjectLookup;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;

/** The EC2 calls of images, through the real SDK client, against the stateful EC2 fake. */
class ImageImporterTest {
  private static final Map<String, String> TAGS = Map.of("nixek.dev/cluster-id", "c", "nixek.dev/image-hash", "h");
  private FakeEc2 fake;
  private Ec2Client ec2;
  private ImageImporter importer;

  @BeforeEach
  void start() {
    fake = FakeEc2.builder().importPolls(2).s3ObjectLookup(S3ObjectLookup.of(Map.of("b/k/disk.raw", 3L << 30)))
        .start();
    ec2 = fake.ec2Client();
    importer = new ImageImporter(ec2);
  }

  @AfterEach
  void stop() {
    ec2.close();
    fake.close();
  }

  private ImportRequest request(String token) {
    return new ImportRequest(token, "b", "k/disk.raw", "RAW", "nixek-import", "test", TAGS);
  }

  @Test
  void theSameClientTokenFindsTheSameTaskAndTheTaskCompletesWithASnapshot() {
    String task = importer.startImport(request("t-1"));
    assertThat(importer.startImport(request("t-1"))).isEqualTo(task);
    assertThat(fake.importTasks()).singleElement().satisfies(t -> {
      assertThat(t.roleName()).isEqualTo("nixek-import");
      assertThat(t.format()).isEqualTo("RAW");
      assertThat(t.tags()).containsAllEntriesOf(TAGS);
    });
    assertThat(importer.describeImport(task).state()).isEqualTo(TaskState.ACTIVE);
    var done = importer.describeImport(task);
    assertThat(done.state()).isEqualTo(TaskState.COMPLETED);
    assertThat(done.snapshotId()).startsWith("snap-");
    assertThat(importer.describeImport("import-snap-0000000000000000").state()).isEqualTo(TaskState.NOT_FOUND);
    assertThat(importer.startImport(request("t-2"))).isNotEqualTo(task);
  }

  @Test
  void aDeletedTaskIsFailedWithItsMessage() {
    fake.failNextImport("ClientError: Unknown OS / Missing OS files.");
    String task = importer.startImport(request("t-1"));
    importer.describeImport(task);
    var failed = importer.describeImport(task);
    assertThat(failed.state()).isEqualTo(TaskState.FAILED);
    assertThat(failed.statusMessage()).isEqualTo("ClientError: Unknown OS / Missing OS files.");
  }

  @Test
  void aMissingObjectIsRefusedByImportSnapshot() {
    assertThatThrownBy(() -> importer.startImport(new ImportRequest("t", "b", "missing", "RAW", "vmimport", "d",
        TAGS))).isInstanceOf(Ec2Exception.class).hasMessageContaining("does not have access to the S3 object");
  }

  @Test
  void registerMakesOneAmiPerNameAndDescribesItsParameters() {
    String snapshot = fake.seedSnapshot(3, Map.of());
    RegisterRequest r = new RegisterRequest("nixek-c-abc", "d", "arm64", "uefi", snapshot, 8, TAGS);
    String ami = importer.register(r);
    // registered again (a crash before the status write): the name finds the first
    assertThat(importer.register(r)).isEqualTo(ami);
    assertThat(fake.images()).singleElement().satisfies(i -> {
      assertThat(i.architecture()).isEqualTo("arm64");
      assertThat(i.bootMode()).isEqualTo("uefi");
      assertThat(i.enaSupport()).isTrue();
      assertThat(i.imdsSupport()).isEqualTo("v2.0");
      assertThat(i.rootDeviceName()).isEqualTo("/dev/xvda");
      assertThat(i.snapshotIds()).containsExactly(snapshot);
      assertThat(i.tags()).containsAllEntriesOf(TAGS);
    });
    assertThat(importer.findByName("nixek-c-abc")).hasValueSatisfying(a -> {
      assertThat(a.imageId()).isEqualTo(ami);
      assertThat(a.available()).isTrue();
      assertThat(a.snapshotIds()).containsExactly(snapshot);
    });
    assertThat(importer.listImages(Map.of("nixek.dev/cluster-id", "c"))).hasSize(1);
    assertThat(importer.listImages(Map.of("nixek.dev/cluster-id", "other"))).isEmpty();
  }

  @Test
  void deletionIsIdempotentAndASnapshotInUseSaysSo() {
    String snapshot = fake.seedSnapshot(1, TAGS);
    String ami = importer.register(new RegisterRequest("n-1", "d", "x86_64", "legacy-bios", snapshot, null, TAGS));
    assertThat(importer.deleteSnapshot(snapshot)).isEqualTo(ImageImporter.DeleteResult.IN_USE);
    assertThat(importer.deregister(ami)).isTrue();
    assertThat(importer.deregister(ami)).isFalse();
    assertThat(importer.deleteSnapshot(snapshot)).isEqualTo(ImageImporter.DeleteResult.DELETED);
    assertThat(importer.deleteSnapshot(snapshot)).isEqualTo(ImageImporter.DeleteResult.NOT_FOUND);
    assertThat(importer.listSnapshots(TAGS)).isEmpty();
  }
}
