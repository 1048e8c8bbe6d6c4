package dev.nixek.ci.e2e.ec2;

import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.testing.aws.imds.FakeImds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "VM" of a test instance: the real agent jar as a child process, reading its config from a fake IMDSv2 that
 * serves the instance's user-data, exactly as on EC2 ({@code --config-from-imds --poweroff}). Its poweroff command
 * leaves a marker; when the agent has exited after powering off, the guest tells the EC2 endpoint that the instance
 * shut itself down ({@code powerOff}).
 */
final class AgentGuest implements dev.nixek.ci.testing.aws.ec2.Machine {
  private static final Logger LOG = LoggerFactory.getLogger(AgentGuest.class);
  static final long SLOW_SHUTDOWN_LIMIT_SECONDS = 60;

  private final String instanceId;
  private final FakeImds imds;
  private final Process agent;
  private final Path marker;
  private final boolean slowShutdown;
  private final AtomicBoolean shuttingDown = new AtomicBoolean();

  private AgentGuest(String instanceId, FakeImds imds, Process agent, Path marker, boolean slowShutdown) {
    this.instanceId = instanceId;
    this.imds = imds;
    this.agent = agent;
    this.marker = marker;
    this.slowShutdown = slowShutdown;
  }

  /**
   * Boots the guest of {@code instanceId}; {@code powerOff} is run once the agent powered the machine off. A guest
   * with {@code slowShutdown} outlives its termination until its agent exited on its own (at most
   * {@link #SLOW_SHUTDOWN_LIMIT_SECONDS}), as a guest OS that takes its time to shut down: the operator terminates an
   * instance as soon as its job ends, so only such a guest lets a test see the agent's own poweroff every time.
   */
  static AgentGuest boot(String instanceId, String userData, Path dir, boolean slowShutdown, Runnable powerOff)
      throws IOException {
    Files.createDirectories(dir.resolve("work"));
    FakeImds imds = FakeImds.builder().instanceId(instanceId).userData(userData).start();
    Path marker = dir.resolve("powered-off");
    List<String> argv = new ArrayList<>(Stack.javaJar("agent/target/nixek-agent.jar"));
    argv.addAll(List.of("--config-from-imds", imds.endpoint().toString(), "--imds-timeout-seconds", "60",
        "--poweroff", "--poweroff-command", "touch " + marker, "--work-dir", dir.resolve("work").toString(),
        "--drain-timeout-seconds", "60"));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true)
        .redirectOutput(dir.resolve("agent.log").toFile()).start();
    AgentGuest guest = new AgentGuest(instanceId, imds, p, marker, slowShutdown);
    p.onExit().thenRun(() -> {
      imds.close();
      if (Files.exists(marker)) {
        LOG.info("guest {} powered off (agent exit code {})", instanceId, p.exitValue());
        powerOff.run();
      } else {
        LOG.info("guest {}: agent exited with {} without powering off", instanceId, p.exitValue());
      }
    });
    LOG.info("guest {} booted: agent pid {}", instanceId, p.pid());
    return guest;
  }

  String instanceId() {
    return instanceId;
  }

  /** Whether the agent ran its poweroff command. */
  boolean poweredOff() {
    return Files.exists(marker);
  }

  boolean running() {
    return agent.isAlive();
  }

  /** What the agent asked the metadata service. */
  List<FakeImds.Request> imdsRequests() {
    return imds.requests();
  }

  /** The instance was terminated: everything on it dies. */
  @Override
  public void stop() {
    if (slowShutdown) {
      if (!shuttingDown.compareAndSet(false, true)) {
        return;
      }
      Thread t = new Thread(() -> {
        try {
          if (!agent.waitFor(SLOW_SHUTDOWN_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            LOG.warn("guest {}: agent still running {} s after termination", instanceId, SLOW_SHUTDOWN_LIMIT_SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        kill();
      }, "slow-shutdown-" + instanceId);
      t.setDaemon(true);
      t.start();
      return;
    }
    kill();
  }

  /** Closes the guest at once, slow shutdown or not (the test is over). */
  void kill() {
    List<ProcessHandle> all = new ArrayList<>(agent.descendants().toList());
    all.add(agent.toHandle());
    all.forEach(ProcessHandle::destroyForcibly);
    try {
      agent.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    imds.close();
  }
}
