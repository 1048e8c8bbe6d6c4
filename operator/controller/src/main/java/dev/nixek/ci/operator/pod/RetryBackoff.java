package dev.nixek.ci.operator.pod;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * When to try again to create a pod (or what it mounts) that the API server refused: after as long as the object has
 * been waiting, at least 5 s and at most 5 min. Tried again at that delay each time, the attempts fall 5, 10, 20,
 * 40 s … after the wait began and then every 5 min — a doubling backoff with no counter to keep, computed from a time
 * the object's status already holds (its condition's lastTransitionTime), so a restarted operator keeps the rhythm
 * instead of starting over or forgetting the object.
 */
public final class RetryBackoff {
  public static final Duration MIN = Duration.ofSeconds(5);
  public static final Duration MAX = Duration.ofMinutes(5);

  private RetryBackoff() {}

  /** The delay before the next attempt, the wait having begun at {@code since} (RFC 3339; null or unreadable: now). */
  public static Duration after(String since, Instant now) {
    Duration waited;
    try {
      waited = since == null ? Duration.ZERO : Duration.between(Instant.parse(since), now);
    } catch (DateTimeParseException e) {
      waited = Duration.ZERO;
    }
    if (waited.compareTo(MIN) < 0) {
      return MIN;
    }
    return waited.compareTo(MAX) > 0 ? MAX : waited;
  }
}
