package dev.nixek.ci.operator.machine;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where jobs' machines come from (docs/architecture.md#machine-providers): {@code ec2} launches one instance per job, {@code local} runs the agent
 * as a local process. The job reconciler only talks to this interface.
 */
public interface MachineProvider {
  /** The provider's name, as configured ({@code local}, {@code ec2}). */
  String name();

  /** Whether machines boot from a registered machine image (so a job waits until its image is Ready). */
  boolean requiresImage();

  /** Whether the agent should power the machine off when it is done. */
  boolean agentPowersOff();

  /**
   * Launches the job's machine, or returns the one already launched with the same launch token. The returned
   * machine may still be pending.
   */
  Machine launch(LaunchRequest request) throws LaunchException;

  /**
   * Looks a machine up by id. Empty means the provider does not see it now — which, right after a launch or a
   * terminate, is not proof that it does not exist (EC2 is eventually consistent).
   */
  Optional<Machine> describe(String machineId);

  /** The machine launched with this launch token, if the provider sees one. */
  Optional<Machine> findByLaunchToken(String launchToken);

  /**
   * Terminates the machine; idempotent (terminating a terminated machine is fine), and quiet when the provider does
   * not see the machine (callers confirm with {@link #describe}).
   */
  void terminate(String machineId);

  /** Every machine this operator installation (cluster id) launched and that is not long gone. */
  List<Machine> list();

  /**
   * How long after a launch, or after the job stopped launching, "not found" from this provider is not proof that a
   * machine does not exist. Zero for providers that are strongly consistent; EC2's eventual consistency needs more.
   */
  default Duration notFoundGrace() {
    return Duration.ZERO;
  }

  /**
   * Starts telling {@code listener} of jobs whose machine changed state, for providers that poll all their machines
   * at once (ec2); the others do nothing and their jobs are polled one by one.
   */
  default void watch(MachineListener listener) {}

  /** Whether {@link #watch} tells of every state change, so that a job need not poll its machine itself. */
  default boolean watches() {
    return false;
  }
}
