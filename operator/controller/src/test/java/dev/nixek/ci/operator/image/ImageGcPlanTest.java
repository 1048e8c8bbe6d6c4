package dev.nixek.ci.operator.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.aws.ImageImporter.Ami;
import dev.nixek.ci.operator.aws.ImageImporter.Snapshot;
import dev.nixek.ci.operator.aws.ImageStore.StoredObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageGcPlanTest {
  private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
  private static final Duration GRACE = Duration.ofHours(1);
  private static final Instant OLD = NOW.minus(Duration.ofHours(2));
  private static final Instant YOUNG = NOW.minus(Duration.ofMinutes(10));
  private static final String PREFIX = "nixek-images/c/";

  private static Map<String, String> tags(String hash) {
    return Map.of("nixek.dev/image-hash", hash);
  }

  private static ImageGcPlan.Live live(Set<String> identities, Set<String> amis, Set<String> snapshots,
      Set<String> uris) {
    return new ImageGcPlan.Live(identities, amis, snapshots, uris);
  }

  @Test
  void unreferencedOldResourcesGoAndEverythingElseStays() {
    List<Ami> amis = List.of(
        new Ami("ami-live-id", "n1", "available", List.of("snap-1"), tags("h1"), OLD),
        new Ami("ami-live-ref", "n2", "available", List.of("snap-2"), tags("gone"), OLD),
        new Ami("ami-orphan", "n3", "available", List.of("snap-3"), tags("gone"), OLD),
        new Ami("ami-young", "n4", "available", List.of("snap-4"), tags("gone"), YOUNG),
        new Ami("ami-no-date", "n5", "available", List.of(), tags("gone"), null));
    List<Snapshot> snapshots = List.of(
        new Snapshot("snap-1", OLD, tags("h1")),
        new Snapshot("snap-2", OLD, tags("gone")),
        new Snapshot("snap-3", OLD, tags("gone")),
        new Snapshot("snap-4", OLD, tags("gone")),
        new Snapshot("snap-ref", OLD, tags("gone")),
        new Snapshot("snap-young", YOUNG, tags("gone")),
        new Snapshot("snap-orphan", OLD, Map.of()));
    List<StoredObject> objects = List.of(
        new StoredObject("b", PREFIX + "h1/disk.vhd", OLD, 1),
        new StoredObject("b", PREFIX + "gone/disk.vhd", OLD, 1),
        new StoredObject("b", PREFIX + "ref/disk.vhd", OLD, 1),
        new StoredObject("b", PREFIX + "young/disk.vhd", YOUNG, 1),
        new StoredObject("b", PREFIX + "not-an-image", OLD, 1));
    ImageGcPlan plan = ImageGcPlan.decide(new ImageGcPlan.Inventory(amis, snapshots, objects),
        live(Set.of("h1"), Set.of("ami-live-ref"), Set.of("snap-ref"), Set.of("s3://b/" + PREFIX + "ref/disk.vhd")),
        PREFIX, NOW, GRACE);

    assertThat(plan.deregister()).extracting(Ami::imageId).containsExactly("ami-orphan");
    // snap-2 and snap-4 back AMIs that stay; snap-3 goes with its AMI
    assertThat(plan.deleteSnapshots()).extracting(Snapshot::snapshotId).containsExactly("snap-3", "snap-orphan");
    assertThat(plan.deleteObjects()).extracting(StoredObject::key).containsExactly(PREFIX + "gone/disk.vhd");
  }

  @Test
  void nothingIsRemovedWithinTheGracePeriod() {
    ImageGcPlan plan = ImageGcPlan.decide(new ImageGcPlan.Inventory(
        List.of(new Ami("ami-1", "n", "available", List.of(), Map.of(), YOUNG)),
        List.of(new Snapshot("snap-1", YOUNG, Map.of())),
        List.of(new StoredObject("b", PREFIX + "h/disk.vhd", YOUNG, 1))),
        live(Set.of(), Set.of(), Set.of(), Set.of()), PREFIX, NOW, GRACE);
    assertThat(plan.isEmpty()).isTrue();
  }

  @Test
  void theIdentityOfAnObjectIsItsFirstPathSegmentUnderThePrefix() {
    assertThat(ImageGcPlan.identityOf(PREFIX + "abc/disk.raw", PREFIX)).isEqualTo("abc");
    assertThat(ImageGcPlan.identityOf(PREFIX + "abc", PREFIX)).isNull();
    assertThat(ImageGcPlan.identityOf("other/abc/disk.raw", PREFIX)).isNull();
  }
}
