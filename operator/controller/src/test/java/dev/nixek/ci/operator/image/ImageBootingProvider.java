package dev.nixek.ci.operator.image;

import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.testing.FakeMachineProvider;
import java.util.List;
import java.util.Optional;

/** {@link FakeMachineProvider}, but its machines boot from images (as EC2's do), so jobs resolve theirs first. */
final class ImageBootingProvider implements MachineProvider {
  final FakeMachineProvider machines = new FakeMachineProvider();

  @Override
  public String name() {
    return "fake-ec2";
  }

  @Override
  public boolean requiresImage() {
    return true;
  }

  @Override
  public boolean agentPowersOff() {
    return true;
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
