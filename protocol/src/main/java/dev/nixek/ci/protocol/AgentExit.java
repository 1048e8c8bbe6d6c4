package dev.nixek.ci.protocol;

/**
 * The agent's exit codes (agent/README.md), shared so that a provider that sees the agent exit (the local one) can
 * say in the job's condition what happened.
 */
public final class AgentExit {
  /** Every step succeeded and every report was acknowledged. */
  public static final int OK = 0;
  /** A step failed: non-zero exit, timeout, could not start. */
  public static final int STEP_FAILED = 1;
  /** Usage or config error: nothing ran. */
  public static final int USAGE = 2;
  /** Reports not acknowledged within the drain timeout, or the job's token refused (401/403). */
  public static final int NOT_REPORTED = 3;
  /** The report API refused a report (409, 422, …): the job's status cannot show what happened after it. */
  public static final int REPORT_REFUSED = 4;

  private AgentExit() {}

  /** What exit code {@code code} means, for a condition message. */
  public static String describe(int code) {
    return switch (code) {
      case OK -> "the agent exited with code 0 (every report delivered) though the job's steps do not say it ended";
      case STEP_FAILED -> "the agent exited with code 1 (a step failed) before its last report was applied";
      case USAGE -> "the agent exited with code 2: it could not read its configuration, nothing ran";
      case NOT_REPORTED -> "the agent exited with code 3: its reports were not acknowledged in time, or the report "
          + "API refused the job's token";
      case REPORT_REFUSED -> "the agent's reports were refused by the report API (409 or 422; agent exit code 4): "
          + "the agent's log names the report and the reason";
      case 143 -> "the agent was terminated (SIGTERM, exit code 143)";
      default -> "the agent exited with code " + code;
    };
  }
}
