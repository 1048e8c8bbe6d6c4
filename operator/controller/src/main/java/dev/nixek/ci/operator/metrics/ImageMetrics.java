package dev.nixek.ci.operator.metrics;

import static dev.nixek.ci.common.status.Conditions.READY;

import dev.nixek.ci.api.v1alpha1.ConditionReason;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import dev.nixek.ci.common.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The machine images' metrics: build and import durations (read off the status the operator writes, like
 * {@link JobMetrics}) and the image cache, i.e. whether a job's machine image was already there.
 */
public final class ImageMetrics {
  private final MeterRegistry registry;
  private final Counter hits;
  private final Counter misses;

  /** Metrics no registry serves: for what is built without an operator's (tests). */
  public static ImageMetrics unregistered() {
    return new ImageMetrics(new SimpleMeterRegistry());
  }

  ImageMetrics(MeterRegistry registry) {
    this.registry = registry;
    hits = cache("hit");
    misses = cache("miss");
  }

  private Counter cache(String result) {
    return Counter.builder("nixek.image.cache")
        .description("Jobs' inline machine images: hit, found Ready and made for another job; miss, created for it")
        .tag("result", result).register(registry);
  }

  /** A job's image existed, Ready, made for another job. */
  public void cacheHit() {
    hits.increment();
  }

  /** A job's image did not exist and was created for it. */
  public void cacheMiss() {
    misses.increment();
  }

  /** The operator wrote {@code after} over the status of {@code before} at {@code now}. */
  public void written(NixekMachineImage before, NixekMachineImageStatus after, Instant now) {
    NixekMachineImageStatus was = before.getStatus();
    Optional<Condition> old = Conditions.find(was == null ? null : was.conditions, READY);
    Optional<Condition> next = Conditions.find(after.conditions, READY);
    if (old.isEmpty() || next.isEmpty()) {
      return;
    }
    boolean wasBuilding = Conditions.hasReason(old.get(), ConditionReason.Building);
    if (wasBuilding && !Conditions.hasReason(next.get(), ConditionReason.Building)) {
      // the Unknown condition began with the build (an image starts Building) and keeps its time while Unknown
      JobMetrics.time(old.get().getLastTransitionTime()).ifPresent(start -> record("nixek.image.build.duration",
          "Image builds (the builder pod) from start to result", outcome(next.get(), ConditionReason.BuildFailed),
          start, now));
    }
    boolean ended = Conditions.hasReason(next.get(), ConditionReason.Ready)
        || Conditions.hasReason(next.get(), ConditionReason.ImportFailed);
    boolean wasImporting = Conditions.hasReason(old.get(), ConditionReason.Importing)
        || Conditions.hasReason(old.get(), ConditionReason.Registering);
    if (wasImporting && ended && was.importStartTime != null) {
      JobMetrics.time(was.importStartTime).ifPresent(start -> record("nixek.image.import.duration",
          "Image imports (EC2 import-snapshot and register-image) from start to result",
          outcome(next.get(), ConditionReason.ImportFailed), start, now));
    }
  }

  private static String outcome(Condition c, ConditionReason failed) {
    return Conditions.hasReason(c, failed) ? "failed" : "succeeded";
  }

  private void record(String name, String description, String outcome, Instant from, Instant to) {
    Duration d = Duration.between(from, to);
    Buckets.timer(name, description, Buckets.LONG).tag("outcome", outcome).register(registry)
        .record(d.isNegative() ? Duration.ZERO : d);
  }
}
