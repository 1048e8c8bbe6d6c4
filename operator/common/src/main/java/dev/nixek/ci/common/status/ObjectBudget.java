package dev.nixek.ci.common.status;

import dev.nixek.ci.common.job.StepRules;

/**
 * What the report API's configured maximums let a job's stored object grow to, at worst
 * (docs/architecture.md#status-budget): the evaluation result, every step's tail, every step's fixed fields, the
 * sealed secrets ({@link #SEALED_SECRETS_MAX_BYTES}, enforced by the operator), the artifact entries
 * ({@link #ARTIFACT_STATUS_MAX_BYTES}, enforced by the report API) and a reserve for metadata and the operator's
 * fields must stay under etcd's object limit, or a status write fails at the end of a long job. Checked at start-up,
 * so such a configuration never runs.
 */
public final class ObjectBudget {
  /** etcd's default object size limit ({@code --max-request-bytes}). */
  public static final int ETCD_OBJECT_LIMIT = 1536 * 1024;
  /**
   * One step's status without its tail, as stored JSON, at most: a 100-character name at up to 6 bytes a character
   * ({@code <} is stored as {@code \}{@code u003c}), two timestamps, the counts, the cut offset and the keys
   * (ObjectBudgetTest measures the worst case).
   */
  public static final int STEP_STATUS_MAX_BYTES = 1000;
  /** Metadata, the operator's status fields (conditions, machine, times) and JSON punctuation. */
  public static final int RESERVE_BYTES = 16 * 1024;
  /**
   * {@code status.sealedSecrets} as stored, at most: 16 KiB of values ({@code NIXEK_JOB_SECRETS_MAX_BYTES}'s default)
   * in one entry with the longest {@code secret/key} and a forge token beside it seal to about 29.5 KiB
   * (ObjectBudgetTest); the operator refuses a job whose sealed secrets are longer (many short values, long names).
   */
  public static final int SEALED_SECRETS_MAX_BYTES = 30 * 1024;
  /**
   * All of a job's {@code status.steps[].artifacts} entries together, as stored: past it (or past
   * {@code NIXEK_ARTIFACT_STATUS_MAX} entries) the report API counts a file in {@code artifactsNotListed} instead.
   * About 200 entries with short paths, 25 with the longest.
   */
  public static final int ARTIFACT_STATUS_MAX_BYTES = 32 * 1024;
  /**
   * The most steps a job's status holds: {@link StepRules#MAX_STEPS} of its own, and the synthetic checkout step 0 a
   * job with {@code spec.source} gets before them ({@code EffectiveSteps}).
   */
  public static final int MAX_STORED_STEPS = StepRules.MAX_STEPS + 1;

  private ObjectBudget() {}

  /** The most all tails of one job can take, over every number of steps a job may have (its checkout counts). */
  public static long worstTails(int tailBytes, int tailBudgetBytes) {
    long worst = 0;
    for (int steps = 1; steps <= MAX_STORED_STEPS; steps++) {
      worst = Math.max(worst, (long) steps * OutputTail.limitFor(steps, tailBytes, tailBudgetBytes));
    }
    return worst;
  }

  /** The largest object these maximums allow. */
  public static long worstObject(int evaluationLimitBytes, int tailBytes, int tailBudgetBytes) {
    return evaluationLimitBytes + worstTails(tailBytes, tailBudgetBytes)
        + (long) MAX_STORED_STEPS * STEP_STATUS_MAX_BYTES + RESERVE_BYTES + SEALED_SECRETS_MAX_BYTES
        + ARTIFACT_STATUS_MAX_BYTES;
  }

  /**
   * What a JSON text (as Jackson writes it) takes in etcd: its UTF-8 bytes, with {@code <}, {@code >}, {@code &} as
   * six bytes and U+2028, U+2029 as six instead of three, as the API server (Go) escapes them.
   */
  public static long storedBytes(String json) {
    long bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c == '<' || c == '>' || c == '&') {
        bytes += 5;
      } else if (c == (char) 0x2028 || c == (char) 0x2029) {
        bytes += 3;
      }
    }
    return bytes;
  }
}
