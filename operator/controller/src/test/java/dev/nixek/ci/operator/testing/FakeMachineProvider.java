package dev.nixek.ci.operator.testing;

import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.machine.MachineState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A machine provider that records what it is asked and keeps machines in memory; tests drive their state. */
public final class FakeMachineProvider implements MachineProvider {
  private final Map<String, Machine> machines = new ConcurrentHashMap<>();
  private final Map<String, LaunchRequest> requests = new ConcurrentHashMap<>();
  private final List<String> launched = new CopyOnWriteArrayList<>();
  private final List<String> terminated = new CopyOnWriteArrayList<>();
  private final AtomicInteger seq = new AtomicInteger();
  private final AtomicInteger lists = new AtomicInteger();
  private volatile LaunchException nextLaunchFailure;

  @Override
  public String name() {
    return "fake";
  }

  @Override
  public boolean requiresImage() {
    return false;
  }

  @Override
  public boolean agentPowersOff() {
    return false;
  }

  @Override
  public synchronized Machine launch(LaunchRequest request) throws LaunchException {
    LaunchException failure = nextLaunchFailure;
    if (failure != null) {
      nextLaunchFailure = null;
      throw failure;
    }
    Optional<Machine> existing = findByLaunchToken(request.launchToken());
    if (existing.isPresent()) {
      return existing.get();
    }
    Machine m = new Machine("fake-" + seq.incrementAndGet(), MachineState.RUNNING, request.jobUid(),
        request.launchToken(), Instant.now(), null);
    machines.put(m.id(), m);
    requests.put(m.id(), request);
    launched.add(m.id());
    return m;
  }

  @Override
  public Optional<Machine> describe(String machineId) {
    return Optional.ofNullable(machines.get(machineId));
  }

  @Override
  public Optional<Machine> findByLaunchToken(String launchToken) {
    return machines.values().stream().filter(m -> launchToken.equals(m.launchToken())).findFirst();
  }

  @Override
  public void terminate(String machineId) {
    Machine m = machines.get(machineId);
    if (m != null) {
      machines.put(machineId, withState(m, MachineState.TERMINATED, "terminated"));
    }
    terminated.add(machineId);
  }

  @Override
  public List<Machine> list() {
    lists.incrementAndGet();
    return new ArrayList<>(machines.values());
  }

  /** How often {@link #list()} was called (the collector's runs). */
  public int listCalls() {
    return lists.get();
  }

  /** Simulates the machine dying on its own (spot interruption, someone terminated it). */
  public void kill(String machineId) {
    machines.computeIfPresent(machineId, (k, m) -> withState(m, MachineState.TERMINATED, "killed by the test"));
  }

  /** How many machines are running now (for sampling how many run at once). */
  public int running() {
    return (int) machines.values().stream().filter(m -> m.state() == MachineState.RUNNING).count();
  }

  public void failNextLaunch(LaunchException e) {
    nextLaunchFailure = e;
  }

  public List<String> launched() {
    return List.copyOf(launched);
  }

  public List<String> terminated() {
    return List.copyOf(terminated);
  }

  public LaunchRequest request(String machineId) {
    return requests.get(machineId);
  }

  private static Machine withState(Machine m, MachineState s, String reason) {
    return new Machine(m.id(), s, m.jobUid(), m.launchToken(), m.launchTime(), reason);
  }
}
