package dev.nixek.ci.report;

import java.nio.charset.StandardCharsets;

/**
 * How much of a step's output the log store keeps (docs/logs.md#ingest-and-coalesced-status): at most
 * {@code stepBytes} per step and {@code jobBytes} for all steps of a job together. A step over its share is cut: its
 * log ends with one {@link #marker} line and later output is acknowledged without being stored, so the agent goes on
 * and the step is not failed for it.
 */
record LogLimits(long stepBytes, long jobBytes) {
  static final String STEP_OPTION = "NIXEK_LOG_STEP_LIMIT_BYTES";
  static final String JOB_OPTION = "NIXEK_LOG_JOB_LIMIT_BYTES";

  /** The bytes step may store when earlier steps of its job stored {@code storedBefore}. */
  long forStep(long storedBefore) {
    return Math.max(0, Math.min(stepBytes, jobBytes - storedBefore));
  }

  /** Which option a step with {@code storedBefore} bytes before it is cut by. */
  String cutBy(long storedBefore) {
    return stepBytes <= jobBytes - storedBefore ? STEP_OPTION : JOB_OPTION;
  }

  /** The line a cut log ends with: it names the limit, so a reader knows why the log stops. */
  static byte[] marker(long cutAt, String option) {
    return ("\n[nixek-ci: output cut at " + cutAt + " bytes: " + option + "]\n").getBytes(StandardCharsets.US_ASCII);
  }
}
