package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.config.ImageOptions;
import java.time.Duration;
import java.time.Instant;

/** When to look at an image again: within the configured poll bounds. */
record ImageDelays(Duration min, Duration max) {
  static ImageDelays of(ImageOptions options) {
    return new ImageDelays(options.pollMin(), options.pollMax());
  }

  /** Polls slow down as the import ages: a quarter of its age, within the bounds. */
  Duration poll(String importStartTime, Instant now) {
    Duration age = importStartTime == null ? Duration.ZERO : Duration.between(Instant.parse(importStartTime), now);
    return clamp(age.dividedBy(4));
  }

  /** After {@code failures} failed AWS calls in a row: doubling from the minimum, within the bounds. */
  Duration retry(int failures) {
    return clamp(min.multipliedBy(1L << Math.min(failures - 1, 16)));
  }

  private Duration clamp(Duration d) {
    return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
  }
}
