package dev.nixek.ci.protocol;

import java.util.List;

/**
 * What an evaluation pod posts to {@code /v1/jobs/{namespace}/{name}/evaluation}: exactly the JSON document
 * {@code nix/eval.nix} prints (nix/README.md, "Output") — the job's steps, and its machine or null — plus the version
 * of the Nix that printed it.
 *
 * @param steps the steps, as the agent runs them
 * @param machine the machine's image identity; null when the job names no machine or it was not evaluated
 * @param machineSkipped true when the job names a machine that was not evaluated ({@code --arg machine false}: the
 *     local provider boots no machine); null otherwise
 * @param nixVersion what {@code nix-instantiate --version} says ({@code 2.26.3}); null from a poster that does not say
 */
public record EvaluationResult(List<AgentStep> steps, Machine machine, Boolean machineSkipped, String nixVersion) {
  /** The largest result the report API accepts by default: 1,000 steps must fit, etcd's 1.5 MiB must not be near. */
  public static final int DEFAULT_MAX_BYTES = 256 * 1024;

  public EvaluationResult {
    steps = steps == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(steps));
  }

  /** A result whose machine, if any, was evaluated. */
  public EvaluationResult(List<AgentStep> steps, Machine machine) {
    this(steps, machine, null, null);
  }

  /**
   * The evaluated machine.
   *
   * @param drvPath the drvPath of the machine's EC2 image (its content-addressed identity)
   * @param system the Nix system it was evaluated for
   */
  public record Machine(String drvPath, String system) {}
}
