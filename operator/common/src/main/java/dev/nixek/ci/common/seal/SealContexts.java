package dev.nixek.ci.common.seal;

/** The context strings sealed values are bound to, in one place so that sealer and opener agree. */
public final class SealContexts {
  private SealContexts() {}

  /** A job's secret values for one launch attempt: a new attempt (or a new job of the same name) reseals. */
  public static String jobSecrets(String namespace, String name, String uid, int attempt) {
    return "job-secrets/" + namespace + "/" + name + "/" + uid + "/" + attempt;
  }

  /** A repository's sealed value of some purpose (e.g. {@code webhook-secret}, {@code forge-token}). */
  public static String repository(String purpose, String namespace, String name, String uid) {
    return "repository/" + purpose + "/" + namespace + "/" + name + "/" + uid;
  }
}
