package dev.nixek.ci.operator.machine;

/** The life of a machine, as providers report it (EC2's instance states, folded). */
public enum MachineState {
  PENDING,
  RUNNING,
  SHUTTING_DOWN,
  TERMINATED;

  /** Whether the machine is gone or going: nothing it runs will report any more. */
  public boolean isGone() {
    return this == SHUTTING_DOWN || this == TERMINATED;
  }
}
