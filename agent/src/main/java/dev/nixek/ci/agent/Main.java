package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code nixek-agent}: reads the job config, runs the job, reports it, optionally powers the machine off. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  static final Duration BACKOFF_INITIAL = Duration.ofMillis(200);
  static final Duration BACKOFF_MAX = Duration.ofSeconds(5);

  private Main() {}

  public static void main(String[] args) {
    AtomicReference<Agent> running = new AtomicReference<>();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Agent agent = running.get();
      if (agent != null) {
        agent.shutdown();
      }
    }, "shutdown"));
    System.exit(run(running, args));
  }

  /** Everything but the JVM's exit; {@code running} is set while a job runs (for the SIGTERM hook). */
  static int run(AtomicReference<Agent> running, String... args) {
    // the JDK HttpClient's own logging prints request headers, the bearer token among them: never let it start
    System.clearProperty("jdk.httpclient.HttpClient.log");
    System.clearProperty("jdk.internal.httpclient.debug");
    AgentOptions options;
    try {
      options = AgentOptions.parse(args);
    } catch (UsageException e) {
      LOG.error("{}", e.getMessage());
      System.err.println(AgentOptions.USAGE);
      return Agent.EXIT_USAGE;
    }
    if (options.help()) {
      System.out.println(AgentOptions.USAGE);
      return Agent.EXIT_OK;
    }

    AgentConfig config = null;
    int exitCode;
    try {
      ConfigSource source = options.configFile().map(ConfigSource::file)
          .orElseGet(() -> new ImdsConfigSource(options.imdsBaseUrl().orElseThrow(), options.imdsTimeout()));
      config = source.load();
      LOG.info("job {}/{} (uid {}): {} step(s), reporting to {}", config.namespace(), config.name(), config.jobUid(),
          config.steps().size(), config.reportUrl());
      Agent agent = newAgent(options, config);
      running.set(agent);
      exitCode = agent.run();
    } catch (UsageException e) {
      LOG.error("{}", e.getMessage());
      exitCode = Agent.EXIT_USAGE;
    } catch (IOException e) {
      // the work dir or the spool cannot be written: nothing can run (or be reported) as it should
      LOG.error("local I/O failure: {}", e.toString());
      exitCode = Agent.EXIT_USAGE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exitCode = Agent.EXIT_NOT_REPORTED;
    } catch (RuntimeException e) {
      // a bug: what was reported is unknown, and the machine must still be powered off
      LOG.error("agent failure", e);
      exitCode = Agent.EXIT_NOT_REPORTED;
    }
    if (options.poweroff() || (config != null && config.shouldPowerOff())) {
      PowerOff.run(options.poweroffCommand());
    }
    return exitCode;
  }

  private static Agent newAgent(AgentOptions options, AgentConfig config)
      throws UsageException, IOException, InterruptedException {
    Optional<RunAs> runAs = options.runAs().isPresent()
        ? Optional.of(RunAs.resolve(options.runAs().get())) : Optional.empty();
    Path workDir;
    if (options.workDir().isPresent()) {
      workDir = options.workDir().get();
      if (!Files.isDirectory(workDir)) {
        Files.createDirectories(workDir);
        if (runAs.isPresent()) {
          runAs.get().own(workDir);
        }
      }
    } else {
      workDir = Files.createTempDirectory("nixek-agent-");
      if (runAs.isPresent()) {
        runAs.get().own(workDir);
      }
    }
    Path spoolDir = options.spoolDir().orElse(workDir.resolve(".nixek-spool"));
    Files.createDirectories(spoolDir);
    // steps (possibly another user) have no business reading or deleting output that is waiting for delivery
    Files.setPosixFilePermissions(spoolDir, PosixFilePermissions.fromString("rwx------"));
    LOG.info("work dir {}, spool dir {}{}", workDir, spoolDir, runAs.map(r -> ", steps run as " + r.user()).orElse(""));

    String runId = UUID.randomUUID().toString().substring(0, 8);
    StepRunner runner = new StepRunner(workDir, runAs, options.killGrace(), runId);
    ReportClient client = new ReportClient(config.reportUrl(), config.token(), REQUEST_TIMEOUT);
    Supplier<Backoff> backoff = () -> new Backoff(BACKOFF_INITIAL, BACKOFF_MAX);
    Checkout checkout = new Checkout(runner, client, config.namespace(), config.name(), workDir, spoolDir, runAs,
        backoff);
    ArtifactUploader artifacts = new ArtifactUploader(config.reportUrl(), config.token(), config.namespace(),
        config.name(), new ArtifactFinder(workDir, spoolDir), BACKOFF_INITIAL);
    // the secret files outside the working tree (a step archiving its work dir must not take them along)
    Path secretsParent = Path.of(System.getProperty("java.io.tmpdir"));
    return new Agent(config, spoolDir, runner, checkout, client, backoff, options.drainTimeout(), artifacts)
        .withSecrets(new ReportApiSecrets(client, config.namespace(), config.name(), backoff),
            new SecretFiles(secretsParent, runAs));
  }
}
