package dev.nixek.ci.operator.testing;

import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import java.util.List;
import java.util.Optional;

/**
 * Another provider's machines (a {@link FakeMachineProvider}, the local one), but booting from images as EC2's do,
 * so that the operator resolves each job's machine image before it launches.
 */
public final class ImageBootingProvider implements MachineProvider {
  private final MachineProvider machines;

  public ImageBootingProvider(MachineProvider machines) {
    this.machines = machines;
  }

  @Override
  public String name() {
    return machines.name();
  }

  @Override
  public boolean requiresImage() {
    return true;
  }

  @Override
  public boolean agentPowersOff() {
    return machines.agentPowersOff();
  }

  @Override
  public Machine launch(LaunchRequest request) throws LaunchException {
    return machines.launch(request);
  }

  @Override
  public Optional<Machine> describe(String machineId) {
    return machines.describe(machineId);
  }

  @Override
  public Optional<Machine> findByLaunchToken(String launchToken) {
    return machines.findByLaunchToken(launchToken);
  }

  @Override
  public void terminate(String machineId) {
    machines.terminate(machineId);
  }

  @Override
  public List<Machine> list() {
    return machines.list();
  }
}
