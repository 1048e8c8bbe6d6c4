package dev.nixek.ci.protocol;

/**
 * Report: the agent stopped the job before its steps' reports could say how it ended ({@code exitCode}, one of
 * {@link AgentExit}'s codes; {@code reason}, the agent's own account, e.g. which report was refused and the API's
 * answer). Sent once, just before the agent exits and powers the machine off, so that the operator — which on EC2
 * sees only a terminated instance — can say in the job's condition what happened.
 */
public record AgentEnded(int exitCode, String reason, String time) {
  /** The longest reason the report API keeps (characters); longer ones are cut, not refused. */
  public static final int MAX_REASON = 1024;
}
