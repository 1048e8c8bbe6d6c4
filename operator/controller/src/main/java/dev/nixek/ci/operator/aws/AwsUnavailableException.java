package dev.nixek.ci.operator.aws;

/** AWS cannot be reached as configured (no region): a condition for the user to read, retried later. */
public final class AwsUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AwsUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
