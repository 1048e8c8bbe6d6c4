package dev.nixek.ci.operator.machine;

/** Hears of a job whose machine changed state, so that the job is reconciled without waiting for its next poll. */
@FunctionalInterface
public interface MachineListener {
  /** The machine of job {@code namespace}/{@code name} appeared, changed state or disappeared. */
  void machineChanged(String namespace, String name);
}
