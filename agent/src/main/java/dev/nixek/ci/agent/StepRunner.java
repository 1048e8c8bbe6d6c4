package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentStep;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one step at a time: stdout and stderr merged into one stream that a pump thread copies to the step's
 * {@link OutputSpool}, a per-step timeout, and {@link #abort} for the other threads (job refused, SIGTERM).
 */
final class StepRunner {
  private static final Logger LOG = LoggerFactory.getLogger(StepRunner.class);
  /** The exit code reported for a step killed for running past its timeout (as coreutils timeout(1)). */
  static final int TIMEOUT_EXIT_CODE = 124;
  /** The exit code reported when a step's process cannot be started (as a shell's "command not found"). */
  static final int CANNOT_START_EXIT_CODE = 127;
  /** After the step's process exits, how long its background children may keep writing to its output. */
  static final Duration OUTPUT_LINGER = Duration.ofSeconds(2);

  private final Path workDir;
  private final Optional<RunAs> runAs;
  private final Duration killGrace;
  private final String runId;

  private Process current;
  private Integer abortExitCode;

  StepRunner(Path workDir, Optional<RunAs> runAs, Duration killGrace, String runId) {
    this.workDir = workDir;
    this.runAs = runAs;
    this.killGrace = killGrace;
    this.runId = runId;
  }

  record Result(int exitCode, boolean timedOut, boolean aborted) {}

  Result run(int index, AgentStep step, OutputSpool spool) throws InterruptedException {
    return run(index, step, spool, Map.of(), SecretMasks.NONE);
  }

  /**
   * Runs a step with {@code secretEnv} (its secret variables, and $NIXEK_SECRETS_DIR) added to its environment last,
   * and its output masked by {@code masks} before it reaches the spool (docs/secrets.md#masking).
   */
  Result run(int index, AgentStep step, OutputSpool spool, Map<String, String> secretEnv, SecretMasks masks)
      throws InterruptedException {
    return run(index, step.name(), step.argv(), step.env(), secretEnv, step.timeoutSeconds(), true, masks, spool);
  }

  /**
   * Runs one process of step {@code index}: as the step user ({@code asStepUser}, the {@code --run-as} user) or as
   * the agent itself (the checkout's git, which reads a credential only the agent may read). Killed by
   * {@link #abort} and its timeout like any step.
   */
  Result run(int index, String name, List<String> argv, Map<String, String> stepEnv, Map<String, String> secretEnv,
      Long timeout, boolean asStepUser, SecretMasks masks, OutputSpool spool) throws InterruptedException {
    String marker = marker(index);
    Optional<RunAs> as = asStepUser ? runAs : Optional.empty();
    ProcessBuilder pb = new ProcessBuilder(as.map(r -> r.wrap(argv)).orElse(argv))
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectInput(new File("/dev/null"));
    Map<String, String> env = pb.environment();
    as.ifPresent(r -> r.applyEnv(env));
    if (stepEnv != null) {
      env.putAll(stepEnv);
    }
    env.putAll(secretEnv);
    env.put(ProcessTree.MARKER, marker);

    Process process;
    synchronized (this) {
      if (abortExitCode != null) {
        spool.seal();
        return new Result(abortExitCode, false, true);
      }
      try {
        process = pb.start();
      } catch (IOException e) {
        LOG.warn("step {} ({}) could not be started: {}", index, name, e.getMessage());
        writeQuietly(spool, "nixek-agent: cannot start " + argv.get(0) + ": " + e.getMessage() + "\n");
        spool.seal();
        return new Result(CANNOT_START_EXIT_CODE, false, false);
      }
      current = process;
    }

    Thread pump = new Thread(() -> pump(process.getInputStream(), spool, masks), "step-" + index + "-output");
    pump.setDaemon(true);
    pump.start();

    boolean timedOut = false;
    try {
      if (timeout == null) {
        process.waitFor();
      } else if (!process.waitFor(timeout, TimeUnit.SECONDS)) {
        timedOut = true;
        LOG.warn("step {} ({}) ran past its timeout of {} s: killing its process tree", index, name, timeout);
        ProcessTree.kill(Optional.of(process.toHandle()), marker::equals, killGrace);
        process.waitFor();
      }
      pump.join(OUTPUT_LINGER.toMillis());
      if (pump.isAlive()) {
        // background processes of the step still hold its output: the step is over, so they go too
        LOG.info("step {} ({}) exited but processes it started still hold its output: killing them", index, name);
        ProcessTree.kill(Optional.empty(), marker::equals, killGrace);
        pump.join(OUTPUT_LINGER.toMillis());
      }
    } finally {
      // even if something escaped and still writes, the step's output ends here
      spool.seal();
      synchronized (this) {
        current = null;
      }
    }
    synchronized (this) {
      if (abortExitCode != null) {
        return new Result(abortExitCode, false, true);
      }
    }
    return timedOut ? new Result(TIMEOUT_EXIT_CODE, true, false) : new Result(process.exitValue(), false, false);
  }

  /**
   * Kills the running step (if any) and makes this and every later {@link #run} end at once with {@code exitCode}.
   * Called from other threads; blocks for up to the kill grace period.
   */
  void abort(int exitCode) throws InterruptedException {
    Process process;
    synchronized (this) {
      if (abortExitCode == null) {
        abortExitCode = exitCode;
      }
      process = current;
    }
    if (process != null) {
      ProcessTree.kill(Optional.of(process.toHandle()), marker -> marker.startsWith(runId + "-"), killGrace);
    }
  }

  /** Ends what steps left running in the background, once the job is over (a local agent must not leak them). */
  void killLeftovers() throws InterruptedException {
    int killed = ProcessTree.kill(Optional.empty(), marker -> marker.startsWith(runId + "-"), killGrace);
    if (killed > 0) {
      LOG.info("killed {} process(es) that steps left running", killed);
    }
  }

  private String marker(int index) {
    return runId + "-" + index;
  }

  private static void pump(InputStream in, OutputSpool spool, SecretMasks masks) {
    byte[] buf = new byte[64 * 1024];
    boolean spooling = true;
    // secrets are masked before the spool: what leaves the machine, and what sits on its disk, never holds them
    SecretMasks.Stream masked = masks.stream(spool::append);
    try (in) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (!spooling) {
          continue; // keep draining, or the step would block on a full pipe
        }
        try {
          masked.write(buf, 0, n);
        } catch (IOException e) {
          spooling = false;
          LOG.error("cannot write step output to the spool (the rest of it is lost): {}", e.toString());
        }
      }
    } catch (IOException e) {
      LOG.debug("output pump stopped: {}", e.toString());
    }
    if (spooling) {
      try {
        masked.flush();
      } catch (IOException e) {
        LOG.error("cannot write the end of the step's output to the spool: {}", e.toString());
      }
    }
  }

  private static void writeQuietly(OutputSpool spool, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    try {
      spool.append(bytes, 0, bytes.length);
    } catch (IOException e) {
      LOG.warn("cannot write to the output spool: {}", e.toString());
    }
  }
}
