package dev.nixek.ci.operator.machine;

/** A launch that failed; {@link #permanent()} launches fail the job, the others are retried. */
public class LaunchException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean permanent;

  public LaunchException(String message, boolean permanent, Throwable cause) {
    super(message, cause);
    this.permanent = permanent;
  }

  public boolean permanent() {
    return permanent;
  }
}
