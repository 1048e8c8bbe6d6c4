package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.image.ImageDeletionPlan.NothingRecorded;
import dev.nixek.ci.operator.image.ImageDeletionPlan.Remove;
import dev.nixek.ci.operator.image.ImageDeletionPlan.Shared;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ImageDeletionPlanTest {
  private static final String REGION = "eu-west-1";
  private static final String HASH = "a".repeat(64);
  private static final String S3 = "s3://images/nixek-images/c/" + HASH + "/nixos.vhd";

  /** EC2 as the plan sees it: recorded calls, canned answers. */
  private static final class FakeLookup implements ImageDeletionPlan.Lookup {
    final List<String> calls = new ArrayList<>();
    final Map<String, Ami> amis = new HashMap<>();
    final Map<String, String> imported = new HashMap<>();

    @Override
    public Optional<Ami> findByName(String region, String amiName) {
      calls.add("findByName " + region + " " + amiName);
      return Optional.ofNullable(amis.get(amiName));
    }

    @Override
    public String importedSnapshot(String region, String importTaskId) {
      calls.add("describeImport " + region + " " + importTaskId);
      return imported.get(importTaskId);
    }
  }

  private final FakeLookup aws = new FakeLookup();

  private static NixekMachineImage image(String uid, NixekMachineImageStatus status) {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("image-" + uid).withUid(uid).build());
    image.setStatus(status);
    return image;
  }

  private static NixekMachineImageStatus recorded(String hash) {
    NixekMachineImageStatus s = new NixekMachineImageStatus();
    s.imageHash = hash;
    s.region = REGION;
    return s;
  }

  /** A status that got as far as Ready: AMI, snapshot, import task and object recorded. */
  private static NixekMachineImageStatus ready() {
    NixekMachineImageStatus s = recorded(HASH);
    s.amiName = "nixek-c-aaaa";
    s.imageId = "ami-1";
    s.snapshotId = "snap-1";
    s.importTaskId = "import-snap-1";
    s.s3Uri = S3;
    return s;
  }

  private ImageDeletionPlan decide(NixekMachineImage image, NixekMachineImage... others) {
    return decide(image, o -> Optional.empty(), others);
  }

  private ImageDeletionPlan decide(NixekMachineImage image,
      Function<NixekMachineImage, Optional<String>> targetKey, NixekMachineImage... others) {
    return ImageDeletionPlan.decide(image, Stream.concat(Stream.of(image), Stream.of(others)), targetKey, aws);
  }

  @Test
  void theSoleOwnerRemovesItsAmiSnapshotAndObject() {
    aws.amis.put("nixek-c-aaaa", new Ami("ami-1", "nixek-c-aaaa", "available", List.of("snap-1"), Map.of(),
        Instant.EPOCH));
    aws.imported.put("import-snap-1", "snap-1");

    ImageDeletionPlan plan = decide(image("u1", ready()), image("u2", recorded("b".repeat(64))));

    assertThat(plan).isEqualTo(new Remove(REGION, List.of("ami-1"), List.of("snap-1"), S3));
    assertThat(aws.calls).containsExactly("findByName eu-west-1 nixek-c-aaaa",
        "describeImport eu-west-1 import-snap-1");
  }

  @Test
  void whatTheStatusMissedIsFoundInAwsAndRemovedToo() {
    // the operator died after RegisterImage and after the import finished, before recording either
    NixekMachineImageStatus s = recorded(HASH);
    s.amiName = "nixek-c-aaaa";
    s.importTaskId = "import-snap-2";
    aws.amis.put("nixek-c-aaaa", new Ami("ami-9", "nixek-c-aaaa", "pending", List.of("snap-9"), Map.of(),
        Instant.EPOCH));
    aws.imported.put("import-snap-2", "snap-2");

    ImageDeletionPlan plan = decide(image("u1", s));

    assertThat(plan).isEqualTo(new Remove(REGION, List.of("ami-9"), List.of("snap-9", "snap-2"), null));
  }

  @Test
  void recordedIdsComeBeforeFoundOnesAndNoneTwice() {
    NixekMachineImageStatus s = ready();
    aws.amis.put("nixek-c-aaaa", new Ami("ami-2", "nixek-c-aaaa", "available", List.of("snap-3", "snap-1"),
        Map.of(), Instant.EPOCH));
    aws.imported.put("import-snap-1", "snap-4");

    ImageDeletionPlan plan = decide(image("u1", s));

    assertThat(plan).isEqualTo(new Remove(REGION, List.of("ami-1", "ami-2"), List.of("snap-3", "snap-1", "snap-4"),
        S3));
  }

  @Test
  void onlyWhatIsRecordedIsLookedUp() {
    NixekMachineImageStatus s = recorded(HASH);
    s.s3Uri = S3;

    ImageDeletionPlan plan = decide(image("u1", s));

    assertThat(plan).isEqualTo(new Remove(REGION, List.of(), List.of(), S3));
    assertThat(aws.calls).isEmpty();
  }

  @Test
  void aLiveSiblingOfTheSameIdentityKeepsEverything() {
    NixekMachineImage sibling = image("u2", recorded(HASH));

    ImageDeletionPlan plan = decide(image("u1", ready()), sibling);

    assertThat(plan).isEqualTo(new Shared(sibling));
    assertThat(aws.calls).isEmpty();
  }

  @Test
  void anImageSharingOneResourceKeepsEverything() {
    for (String shared : List.of("imageId", "snapshotId", "s3Uri")) {
      NixekMachineImageStatus other = recorded("c".repeat(64));
      switch (shared) {
        case "imageId" -> other.imageId = "ami-1";
        case "snapshotId" -> other.snapshotId = "snap-1";
        default -> other.s3Uri = S3;
      }
      NixekMachineImage sharer = image("u2", other);

      assertThat(decide(image("u1", ready()), sharer)).as(shared).isEqualTo(new Shared(sharer));
    }
    assertThat(aws.calls).isEmpty();
  }

  @Test
  void anImageWhoseSpecHasTheSameTargetKeepsEverything() {
    // not reconciled yet: no status, but it will adopt what this identity made
    NixekMachineImage newcomer = image("u2", null);

    ImageDeletionPlan plan = decide(image("u1", ready()),
        o -> o == newcomer ? Optional.of(ImageTarget.key(HASH, REGION)) : Optional.empty(), newcomer);

    assertThat(plan).isEqualTo(new Shared(newcomer));
  }

  @Test
  void theSameIdentityInAnotherRegionSharesNothing() {
    NixekMachineImageStatus elsewhere = recorded(HASH);
    elsewhere.region = "us-east-1";

    ImageDeletionPlan plan = decide(image("u1", ready()), image("u2", elsewhere),
        image("u3", null));

    assertThat(plan).isInstanceOf(Remove.class);
  }

  @Test
  void imagesBeingDeletedShareNothing() {
    NixekMachineImage deleting = image("u2", recorded(HASH));
    deleting.getMetadata().setDeletionTimestamp("2026-12-07T00:00:00Z");

    ImageDeletionPlan plan = decide(image("u1", ready()), deleting);

    assertThat(plan).isEqualTo(new Remove(REGION, List.of("ami-1"), List.of("snap-1"), S3));
  }

  @Test
  void nothingRecordedIsNothingToDo() {
    NixekMachineImageStatus noRegion = new NixekMachineImageStatus();
    noRegion.imageHash = HASH;
    noRegion.imageId = "ami-1";
    NixekMachineImageStatus noHash = new NixekMachineImageStatus();
    noHash.region = REGION;

    for (NixekMachineImageStatus s : new NixekMachineImageStatus[] {null, new NixekMachineImageStatus(), noRegion,
        noHash}) {
      assertThat(decide(image("u1", s))).isEqualTo(new NothingRecorded());
    }
    assertThat(aws.calls).isEmpty();
  }
}
