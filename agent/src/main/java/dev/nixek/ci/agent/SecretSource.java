package dev.nixek.ci.agent;

import java.util.Map;

/** Where the agent gets the job's secret values, by {@code secret/key}, once, before the first step that needs them. */
interface SecretSource {
  /** The values; throws {@link Unavailable} with a message (never a value) when they cannot be had. */
  Map<String, byte[]> fetch() throws InterruptedException;

  /** A job config that names secrets but no way to fetch them. */
  SecretSource NONE = () -> {
    throw new Unavailable("this agent has no report API to fetch secrets from");
  };

  /** The secrets cannot be had; {@code refused} when the report API said no (the job is over for this agent). */
  final class Unavailable extends RuntimeException {
    private final boolean refused;

    Unavailable(String message) {
      this(message, false);
    }

    Unavailable(String message, boolean refused) {
      super(message, null, false, false);
      this.refused = refused;
    }

    boolean refused() {
      return refused;
    }
  }
}
