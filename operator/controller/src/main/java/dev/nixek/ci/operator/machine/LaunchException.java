package dev.nixek.ci.operator.machine;

import java.util.Optional;

/**
 * A launch that failed, and what the job reconciler should do about it ({@link #kind()}): retry the same launch
 * token later, fail the job, or record a different launch token first and launch with that.
 */
public class LaunchException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What a failed launch means for the job. */
  public enum Kind {
    /** Try again later with the same launch token (throttling, server errors, capacity). */
    RETRY,
    /** It can never work as asked: the job fails {@code LaunchFailed}. */
    PERMANENT,
    /**
     * The launch token's machine existed and was terminated (EC2 {@code IdempotentInstanceTerminated}): replaying
     * the token can never yield a machine again. The reconciler decides whether a new attempt is allowed.
     */
    TOKEN_TERMINATED,
    /**
     * This token launched nothing and the provider wants a different launch (spot → on-demand): record
     * {@link #nextLaunchToken()} in status first, then launch with it.
     */
    FALL_BACK
  }

  private final Kind kind;
  private final String nextLaunchToken;

  public LaunchException(String message, boolean permanent, Throwable cause) {
    this(message, permanent ? Kind.PERMANENT : Kind.RETRY, null, cause);
  }

  private LaunchException(String message, Kind kind, String nextLaunchToken, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.nextLaunchToken = nextLaunchToken;
  }

  /** The token's machine was terminated before the job recorded it. */
  public static LaunchException tokenTerminated(String message, Throwable cause) {
    return new LaunchException(message, Kind.TOKEN_TERMINATED, null, cause);
  }

  /** Nothing was launched; launch again with {@code nextLaunchToken} once it is recorded. */
  public static LaunchException fallBack(String message, String nextLaunchToken, Throwable cause) {
    return new LaunchException(message, Kind.FALL_BACK, nextLaunchToken, cause);
  }

  public Kind kind() {
    return kind;
  }

  public boolean permanent() {
    return kind == Kind.PERMANENT;
  }

  /** For {@link Kind#FALL_BACK}: the launch token to record and launch with. */
  public Optional<String> nextLaunchToken() {
    return Optional.ofNullable(nextLaunchToken);
  }
}
