package dev.nixek.ci.operator.job;

/**
 * Launch tokens: the idempotency key of one launch attempt of one job (EC2's ClientToken, at most 64 ASCII
 * characters). Derived, not random, so that it can be written to status before the launch and replayed after.
 */
public final class LaunchTokens {
  private LaunchTokens() {}

  public static String of(String jobUid, int attempt) {
    return "nixek-" + jobUid + "-" + attempt;
  }
}
