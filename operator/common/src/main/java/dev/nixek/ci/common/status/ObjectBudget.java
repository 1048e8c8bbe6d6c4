package dev.nixek.ci.common.status;

import dev.nixek.ci.common.job.StepRules;

/**
 * What the report API's configured maximums let a job's stored object grow to, at worst
 * (docs/architecture.md#status-budget): the evaluation result, every step's tail, every step's fixed fields and a
 * reserve for metadata and the operator's fields must stay under etcd's object limit, or a status write fails at
 * the end of a long job. Checked at start-up, so such a configuration never runs.
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
        + (long) MAX_STORED_STEPS * STEP_STATUS_MAX_BYTES + RESERVE_BYTES;
  }
}
