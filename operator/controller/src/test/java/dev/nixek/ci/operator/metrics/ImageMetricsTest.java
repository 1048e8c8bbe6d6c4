package dev.nixek.ci.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The image metrics read off the status writes the operator makes: a build ends when Building is left (Uploading:
 * succeeded, BuildFailed: failed), an import when Importing or Registering becomes Ready or ImportFailed; the cache
 * counter has a hit and a miss series from the start. Values are checked on the Prometheus text, as scraped.
 */
class ImageMetricsTest {
  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  private final OperatorMetrics metrics = new OperatorMetrics();
  private final ImageMetrics images = metrics.images();

  private static NixekMachineImage image(ConditionReason reason, Instant since, String importStart) {
    NixekMachineImage image = new NixekMachineImage();
    NixekMachineImageStatus status = new NixekMachineImageStatus();
    status.conditions = Conditions.with(null, Conditions.READY, reason, "", 1L, since);
    status.importStartTime = importStart;
    image.setStatus(status);
    return image;
  }

  /** {@code before}'s status moved on to {@code reason} at {@code now}. */
  private void write(NixekMachineImage before, ConditionReason reason, Instant now) {
    NixekMachineImageStatus after = new NixekMachineImageStatus();
    after.conditions = Conditions.with(before.getStatus().conditions, Conditions.READY, reason, "", 1L, now);
    after.importStartTime = before.getStatus().importStartTime;
    images.written(before, after, now);
  }

  @Test
  void buildsAndImportsAreTimedByOutcome() {
    write(image(ConditionReason.Building, T0, null), ConditionReason.Uploading, T0.plusSeconds(300));
    write(image(ConditionReason.Building, T0, null), ConditionReason.BuildFailed, T0.plusSeconds(20));
    // a status write that stays Building records nothing
    write(image(ConditionReason.Building, T0, null), ConditionReason.Building, T0.plusSeconds(30));
    write(image(ConditionReason.Registering, T0, T0.plusSeconds(10).toString()), ConditionReason.Ready,
        T0.plusSeconds(610));
    write(image(ConditionReason.Importing, T0, T0.toString()), ConditionReason.ImportFailed, T0.plusSeconds(60));
    // Uploading → Importing is neither the end of a build nor of an import
    write(image(ConditionReason.Uploading, T0, null), ConditionReason.Importing, T0.plusSeconds(400));

    String text = metrics.scrape();
    assertThat(text)
        .contains("nixek_image_build_duration_seconds_count{outcome=\"succeeded\"} 1")
        .contains("nixek_image_build_duration_seconds_sum{outcome=\"succeeded\"} 300.0")
        .contains("nixek_image_build_duration_seconds_count{outcome=\"failed\"} 1")
        .contains("nixek_image_build_duration_seconds_sum{outcome=\"failed\"} 20.0")
        .contains("nixek_image_import_duration_seconds_count{outcome=\"succeeded\"} 1")
        .contains("nixek_image_import_duration_seconds_sum{outcome=\"succeeded\"} 600.0")
        .contains("nixek_image_import_duration_seconds_count{outcome=\"failed\"} 1")
        .contains("nixek_image_import_duration_seconds_sum{outcome=\"failed\"} 60.0");
  }

  @Test
  void cacheHitsAndMissesAreCountedFromZero() {
    assertThat(metrics.scrape()).contains("nixek_image_cache_total{result=\"hit\"} 0.0")
        .contains("nixek_image_cache_total{result=\"miss\"} 0.0");
    images.cacheMiss();
    images.cacheHit();
    images.cacheHit();
    assertThat(metrics.scrape()).contains("nixek_image_cache_total{result=\"hit\"} 2.0")
        .contains("nixek_image_cache_total{result=\"miss\"} 1.0");
  }
}
