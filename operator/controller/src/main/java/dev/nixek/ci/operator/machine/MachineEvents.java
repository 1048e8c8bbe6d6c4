package dev.nixek.ci.operator.machine;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.util.Set;

/**
 * The job reconciler's event source for machine state changes a provider notices on its own
 * ({@link MachineProvider#watch}): the ec2 provider's one DescribeInstances per interval for all instances wakes
 * exactly the jobs whose instance changed.
 */
public final class MachineEvents extends AbstractEventSource<Machine, NixekJob> {
  private final MachineProvider provider;

  public MachineEvents(MachineProvider provider) {
    super(Machine.class, "machine-states");
    this.provider = provider;
  }

  @Override
  public void start() {
    super.start();
    provider.watch((namespace, name) -> {
      if (isRunning()) {
        getEventHandler().handleEvent(new Event(new ResourceID(name, namespace)));
      }
    });
  }

  @Override
  public Set<Machine> getSecondaryResources(NixekJob primary) {
    return Set.of();
  }
}
