package dev.nixek.ci.operator.metrics;

import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** The histogram buckets of the operator's timers: fixed, so every series has the same few buckets. */
final class Buckets {
  /** Jobs, evaluations, image builds and imports: seconds to hours. */
  static final Duration[] LONG = durations(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400);
  /** Launch latency and queue wait: sub-second to an hour. */
  static final Duration[] LAUNCH = durations(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600);
  /** Cloud API calls: milliseconds to the client's two-minute limit. */
  static final Duration[] CALL = durations(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120);

  private Buckets() {}

  static Timer.Builder timer(String name, String description, Duration[] buckets) {
    return Timer.builder(name).description(description).serviceLevelObjectives(buckets)
        .minimumExpectedValue(buckets[0]).maximumExpectedValue(buckets[buckets.length - 1]);
  }

  private static Duration[] durations(double... seconds) {
    Duration[] out = new Duration[seconds.length];
    for (int i = 0; i < seconds.length; i++) {
      out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
    }
    return out;
  }
}
