package dev.nixek.ci.protocol;

import java.time.Duration;

/**
 * How long a client of the report API (the agent, an evaluation) retries a 401 before any of its reports was
 * accepted. The operator records a token before it hands the token out, but the report API learns records through a
 * watch, a little behind: a client started at once (the {@code local} provider, a local evaluation) can ask before the
 * record arrived. Once a report was accepted the record is known, and a 401 means the job is over; a 401 that lasts
 * longer than this is final too.
 */
public final class TokenGrace {
  public static final Duration UNKNOWN_TOKEN = Duration.ofSeconds(10);

  private TokenGrace() {}
}
