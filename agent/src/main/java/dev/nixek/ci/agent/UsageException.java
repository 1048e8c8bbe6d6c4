package dev.nixek.ci.agent;

/** A bad command line or job config: the agent exits 2 without running anything. */
final class UsageException extends Exception {
  UsageException(String message) {
    super(message);
  }

  UsageException(String message, Throwable cause) {
    super(message, cause);
  }
}
