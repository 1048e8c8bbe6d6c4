package dev.nixek.ci.operator.repository;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which refs of a repository are built, and how they are named on the objects made for them: branches by
 * {@code spec.branches} (names or globs: {@code *} within a path segment, {@code **} across), pull requests by their
 * {@code refs/pull/<n>/head}; label values bounded to 63 characters with a hash suffix where cut or changed.
 */
public final class RefRules {
  public static final String BRANCH_PREFIX = "refs/heads/";
  private static final Pattern PULL = Pattern.compile("^refs/pull/([1-9][0-9]{0,9})/head$");
  private static final Pattern LABEL_UNSAFE = Pattern.compile("[^A-Za-z0-9._-]");
  static final int LABEL_MAX = 63;

  private RefRules() {}

  /** Whether {@code branch} (without refs/heads/) matches one of {@code patterns}. */
  public static boolean branchMatches(String branch, List<String> patterns) {
    for (String p : patterns) {
      if (glob(p).matcher(branch).matches()) {
        return true;
      }
    }
    return false;
  }

  /** A branch glob as a regex: {@code **} any characters, {@code *} any but '/', everything else literal. */
  static Pattern glob(String pattern) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '*' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
        re.append(".*");
        i++;
      } else if (c == '*') {
        re.append("[^/]*");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }

  /** The pull request number of {@code ref} ({@code refs/pull/<n>/head}), if it is one. */
  public static Optional<Integer> pullNumber(String ref) {
    Matcher m = PULL.matcher(ref);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Integer.parseInt(m.group(1)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The ref of pull request {@code n}. */
  public static String pullRef(int n) {
    return "refs/pull/" + n + "/head";
  }

  /** The branch of {@code ref}, if it is one. */
  public static Optional<String> branch(String ref) {
    return ref.startsWith(BRANCH_PREFIX) ? Optional.of(ref.substring(BRANCH_PREFIX.length())) : Optional.empty();
  }

  /**
   * {@code value} as a label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric; when
   * that changed anything, the first characters and 10 hex digits of the original's SHA-256, so that two values
   * never share a label by being cut or cleaned alike.
   */
  public static String labelValue(String value) {
    String clean = LABEL_UNSAFE.matcher(value).replaceAll("_");
    if (clean.equals(value) && clean.length() <= LABEL_MAX && alnumEnds(clean)) {
      return clean;
    }
    String hash = sha256Hex(value).substring(0, 10);
    String head = clean.substring(0, Math.min(clean.length(), LABEL_MAX - hash.length() - 1))
        .replaceAll("^[^A-Za-z0-9]+", "").replaceAll("[^A-Za-z0-9]+$", "");
    return head.isEmpty() ? hash : head + "-" + hash;
  }

  /**
   * The label value of a ref: {@code heads_<branch>} or {@code pull_<n>_head}; a branch with characters a label
   * cannot hold (a '/', say) or a long one goes through {@link #labelValue} and gets its hash.
   */
  public static String refLabel(String ref) {
    String rest = ref.startsWith("refs/") ? ref.substring("refs/".length()) : ref;
    String structural = rest.replaceFirst("^heads/", "heads_").replaceFirst("^pull/([0-9]+)/head$", "pull_$1_head");
    if (!structural.equals(rest) && !LABEL_UNSAFE.matcher(structural).find() && structural.length() <= LABEL_MAX
        && alnumEnds(structural)) {
      return structural;
    }
    return labelValue(rest);
  }

  private static boolean alnumEnds(String s) {
    return !s.isEmpty() && Character.isLetterOrDigit(s.charAt(0)) && Character.isLetterOrDigit(s.charAt(s.length() - 1));
  }

  static String sha256Hex(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
