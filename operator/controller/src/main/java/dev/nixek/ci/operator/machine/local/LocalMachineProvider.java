package dev.nixek.ci.operator.machine.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.operator.machine.LaunchException;
import dev.nixek.ci.operator.machine.LaunchRequest;
import dev.nixek.ci.operator.machine.Machine;
import dev.nixek.ci.operator.machine.MachineProvider;
import dev.nixek.ci.operator.machine.MachineState;
import dev.nixek.ci.protocol.AgentExit;
import dev.nixek.ci.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each job's agent as a local child process, with a config file holding exactly what EC2 user-data would.
 *
 * <p>A development provider (the demo, tests, an operator run from a clone): every job step runs as a process of
 * the operator, on its host or in its container, with its user and next to its files and the other jobs' tokens.
 * It is not for clusters that run anyone's jobs; it says so in a warning at start-up.
 *
 * <p>Each machine is a directory under the state dir: {@code machine.json} (which job, which launch token),
 * {@code config.json} (the agent config, owner-only, deleted on terminate), {@code work/}, {@code agent.log}.
 * The machine id is derived from the launch token, so a replayed launch finds the machine it already started.
 *
 * <p>After an operator restart the processes are still there (nothing kills children when the JVM dies): they are
 * found again by their command line, which names the machine's config file, and re-adopted (docs/architecture.md#machine-providers).
 */
public final class LocalMachineProvider implements MachineProvider {
  private static final Logger LOG = LoggerFactory.getLogger(LocalMachineProvider.class);
  private static final ObjectMapper JSON = Json.mapper();
  private static final Duration KILL_GRACE = Duration.ofSeconds(5);
  /** The only variables of the operator's environment a local machine sees. */
  private static final java.util.Set<String> PASSED_ENV = java.util.Set.of("PATH", "HOME", "LANG", "LC_ALL", "TZ",
      "TMPDIR", "JAVA_HOME");

  private final Path stateDir;
  private final List<String> agentCommand;
  private final String clusterId;
  private final Clock clock;
  private final Map<String, Process> children = new ConcurrentHashMap<>();

  /**
   * A provider whose machines live under {@code stateDir}, tagged with {@code clusterId}.
   *
   * @param agentCommand the agent command; the image's agent jar is replaced by the clone's where the image's is
   *     missing ({@link LocalAgentCommand})
   */
  public LocalMachineProvider(Path stateDir, List<String> agentCommand, String clusterId, Clock clock) {
    this.stateDir = stateDir;
    this.agentCommand = LocalAgentCommand.resolve(List.copyOf(agentCommand));
    this.clusterId = clusterId;
    this.clock = clock;
    LOG.warn("machine provider 'local' (development only): job steps run as processes of this operator, with its "
        + "user and files; not for clusters. Agent: '{}'; machines' files (agent configs with job tokens, work "
        + "dirs, logs) under {}", String.join(" ", this.agentCommand), stateDir.toAbsolutePath());
  }

  /** What is recorded about a local machine. */
  record MachineRecord(String id, String clusterId, String jobUid, String namespace, String name,
      String launchToken, String launchTime) {}

  @Override
  public String name() {
    return "local";
  }

  @Override
  public boolean requiresImage() {
    return false;
  }

  @Override
  public boolean agentPowersOff() {
    return false;
  }

  /** The machine id for a launch token. */
  public static String machineId(String launchToken) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(launchToken.getBytes(StandardCharsets.UTF_8));
      return "local-" + HexFormat.of().formatHex(h).substring(0, 20);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Machine launch(LaunchRequest request) throws LaunchException {
    String id = machineId(request.launchToken());
    synchronized (lockFor(id)) {
      Path dir = stateDir.resolve(id);
      if (Files.exists(dir.resolve("machine.json"))) {
        return describe(id).orElseThrow(() -> new LaunchException("machine " + id + " vanished", false, null));
      }
      try {
        Files.createDirectories(dir.resolve("work"));
        Path config = dir.resolve("config.json");
        Files.deleteIfExists(config);
        Files.createFile(config, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(config, JSON.writeValueAsBytes(request.agentConfig()));
        MachineRecord rec = new MachineRecord(id, clusterId, request.jobUid(), request.namespace(), request.name(),
            request.launchToken(), clock.instant().toString());
        // record before starting: a crash in between leaves a record whose process is simply not found
        writeAtomically(dir.resolve("machine.json"), JSON.writeValueAsBytes(rec));
        List<String> argv = new ArrayList<>(agentCommand);
        argv.addAll(List.of("--config", config.toString(), "--work-dir", dir.resolve("work").toString()));
        ProcessBuilder pb = new ProcessBuilder(argv)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("agent.log").toFile()));
        // a fresh machine has none of the operator's environment (its kubeconfig, its credentials)
        Map<String, String> env = pb.environment();
        env.keySet().retainAll(PASSED_ENV);
        Process p = pb.start();
        children.put(id, p);
        LOG.info("launched local machine {} (pid {}) for job {}/{}", id, p.pid(), request.namespace(), request.name());
        return new Machine(id, MachineState.RUNNING, request.jobUid(), request.launchToken(), Instant.parse(rec.launchTime()),
            null);
      } catch (IOException e) {
        throw new LaunchException("could not start the local agent: " + e.getMessage(), false, e);
      }
    }
  }

  @Override
  public Optional<Machine> describe(String machineId) {
    Optional<MachineRecord> rec = read(machineId);
    return rec.map(this::toMachine);
  }

  @Override
  public Optional<Machine> findByLaunchToken(String launchToken) {
    return describe(machineId(launchToken));
  }

  @Override
  public void terminate(String machineId) {
    synchronized (lockFor(machineId)) {
      Path dir = stateDir.resolve(machineId);
      if (!Files.isDirectory(dir)) {
        return;
      }
      findProcess(machineId).ifPresent(LocalMachineProvider::killTree);
      try {
        Files.deleteIfExists(dir.resolve("config.json"));
        if (!Files.exists(dir.resolve("terminated"))) {
          writeAtomically(dir.resolve("terminated"), clock.instant().toString().getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      children.remove(machineId);
      LOG.info("terminated local machine {}", machineId);
    }
  }

  @Override
  public List<Machine> list() {
    if (!Files.isDirectory(stateDir)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(stateDir)) {
      return dirs.map(d -> d.getFileName().toString())
          .filter(id -> id.startsWith("local-"))
          .map(this::read)
          .flatMap(Optional::stream)
          .filter(r -> clusterId.equals(r.clusterId()))
          .map(this::toMachine)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The agent's log of a machine (its stdout and stderr). */
  public Path logFile(String machineId) {
    return stateDir.resolve(machineId).resolve("agent.log");
  }

  private Machine toMachine(MachineRecord r) {
    Path dir = stateDir.resolve(r.id());
    MachineState state;
    String reason = null;
    if (Files.exists(dir.resolve("terminated"))) {
      state = MachineState.TERMINATED;
      reason = "terminated by the operator";
    } else if (findProcess(r.id()).isPresent()) {
      state = MachineState.RUNNING;
    } else {
      state = MachineState.TERMINATED;
      Process p = children.get(r.id());
      // the job's InstanceLost message quotes this: say what the exit code means (a refused report, a lost token)
      reason = p != null && !p.isAlive() ? AgentExit.describe(p.exitValue()) : "agent process is gone";
    }
    return new Machine(r.id(), state, r.jobUid(), r.launchToken(), Instant.parse(r.launchTime()), reason);
  }

  private Optional<MachineRecord> read(String machineId) {
    Path f = stateDir.resolve(machineId).resolve("machine.json");
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(f.toFile(), MachineRecord.class));
    } catch (IOException e) {
      LOG.warn("unreadable local machine record {}: {}", f, e.getMessage());
      return Optional.empty();
    }
  }

  /** The machine's agent process: our own child, or (after a restart) the process whose argv names its config. */
  private Optional<ProcessHandle> findProcess(String machineId) {
    Process p = children.get(machineId);
    if (p != null) {
      return p.isAlive() ? Optional.of(p.toHandle()) : Optional.empty();
    }
    String config = stateDir.resolve(machineId).resolve("config.json").toString();
    return ProcessHandle.allProcesses()
        .filter(ProcessHandle::isAlive)
        .filter(h -> h.info().arguments().map(args -> List.of(args).contains(config)).orElse(false))
        .findFirst();
  }

  private static void killTree(ProcessHandle root) {
    List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
    all.add(root);
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + KILL_GRACE.toNanos();
    for (ProcessHandle h : all) {
      long left = deadline - System.nanoTime();
      try {
        if (left > 0) {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        }
      } catch (Exception e) {
        // still alive: forced below
      }
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }

  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  private Object lockFor(String id) {
    return locks.computeIfAbsent(id, k -> new Object());
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
