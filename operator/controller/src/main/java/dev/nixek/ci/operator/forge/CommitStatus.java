package dev.nixek.ci.operator.forge;

/**
 * One commit status as both forges take it: {@code state} (pending, success, failure, error), a one-line
 * {@code description} (at most {@value #MAX_DESCRIPTION} characters: GitHub refuses longer ones), the {@code context}
 * ({@code nixek-ci/<job>}) under which a newer status replaces an older one, and an optional {@code targetUrl}.
 */
public record CommitStatus(String state, String description, String context, String targetUrl) {
  public static final String PENDING = "pending";
  public static final String SUCCESS = "success";
  public static final String FAILURE = "failure";
  public static final String ERROR = "error";
  /** GitHub's limit on a status description. */
  public static final int MAX_DESCRIPTION = 140;
  /** The prefix of every context nixek-ci posts under. */
  public static final String CONTEXT_PREFIX = "nixek-ci/";

  public CommitStatus {
    description = oneLine(description);
  }

  /** Whether no later status follows this one for the job. */
  public boolean isFinal() {
    return !PENDING.equals(state);
  }

  /** One line, control characters replaced, cut to {@link #MAX_DESCRIPTION} code points with an ellipsis. */
  static String oneLine(String text) {
    if (text == null) {
      return null;
    }
    String s = text.replaceAll("[\\p{Cntrl}\\p{Zl}\\p{Zp}]+", " ").strip();
    if (s.codePointCount(0, s.length()) <= MAX_DESCRIPTION) {
      return s;
    }
    return s.substring(0, s.offsetByCodePoints(0, MAX_DESCRIPTION - 1)) + "…";
  }
}
