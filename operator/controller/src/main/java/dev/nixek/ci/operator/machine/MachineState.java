package dev.nixek.ci.operator.machine;

/** The life of a machine, as providers report it (EC2's instance states, folded). */
public enum MachineState {
  PENDING,
  RUNNING,
  /** Stopping or stopped (someone stopped the instance): nothing runs, but it exists until it is terminated. */
  STOPPED,
  SHUTTING_DOWN,
  TERMINATED;

  /** Whether the machine is gone or going: nothing it runs will report any more. */
  public boolean isGone() {
    return this == STOPPED || this == SHUTTING_DOWN || this == TERMINATED;
  }

  /** Whether the machine is terminated or on its way there, so terminating it again changes nothing. */
  public boolean isTerminating() {
    return this == SHUTTING_DOWN || this == TERMINATED;
  }
}
