package dev.nixek.ci.common.job;

import java.util.Optional;

/**
 * Which clone URLs nixek-ci can fetch with the credentials it delivers (docs/repositories.md#source-checkout): https
 * (the repository's token), http (the same, in clear: trusted networks and tests) and file (tests and the demo, where
 * the operator allows it). ssh:// is refused rather than tried without a key: no SSH key reaches the operator's
 * {@code git ls-remote}, the commit evaluation or the agent's checkout, so such a repository would fail later, at each
 * of them, with {@code Permission denied (publickey)}. The schema refuses it too; this check covers objects stored
 * before it did.
 */
public final class SourceUrlRules {
  private SourceUrlRules() {}

  /** What is wrong with {@code url} as a clone URL, or empty. */
  public static Optional<String> problem(String url) {
    if (url == null || url.isBlank()) {
      return Optional.of("is required");
    }
    if (url.startsWith("ssh://")) {
      return Optional.of("ssh:// is not supported: no SSH key is delivered to the operator, the commit evaluation or "
          + "the checkout; use the repository's https:// clone URL (with a NixekRepository's spec.tokenSecretRef "
          + "for a private one)");
    }
    if (!url.startsWith("https://") && !url.startsWith("http://") && !url.startsWith("file:///")) {
      return Optional.of("must be an https://, http:// or file:/// URL, not " + scheme(url));
    }
    return Optional.empty();
  }

  private static String scheme(String url) {
    int colon = url.indexOf(':');
    return colon > 0 && colon < 20 ? url.substring(0, colon + 1) + "..." : "'" + url.substring(0,
        Math.min(url.length(), 20)) + "...'";
  }
}
