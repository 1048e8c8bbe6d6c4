package dev.nixek.ci.builder;

import java.util.Map;

/**
 * The environment of the processes the builder starts (the image build, the job's evaluation): the builder's own
 * without its AWS settings. Both run code from the user's expression, and Nix builders are not sandboxed here, so
 * they must not see the S3 credentials this process holds (static keys, session tokens, IRSA role/token settings).
 */
final class ChildEnvironment {
  private ChildEnvironment() {}

  /** Replaces {@code pb}'s environment with {@code environment} minus every {@code AWS_*} variable. */
  static ProcessBuilder apply(ProcessBuilder pb, Map<String, String> environment) {
    Map<String, String> env = pb.environment();
    env.clear();
    environment.forEach((name, value) -> {
      if (!name.startsWith("AWS_")) {
        env.put(name, value);
      }
    });
    return pb;
  }
}
