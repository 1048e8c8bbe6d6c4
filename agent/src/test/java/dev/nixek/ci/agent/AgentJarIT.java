package dev.nixek.ci.agent;

import static dev.nixek.ci.agent.TestJobs.command;
import static dev.nixek.ci.agent.TestJobs.config;
import static dev.nixek.ci.agent.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.testing.aws.imds.FakeImds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as it runs on a VM or under the local provider: {@code java -jar nixek-agent.jar ...} in a child
 * process. Runs in the {@code package} phase, after the jar is built.
 */
class AgentJarIT {
  private static final Path JAR = Path.of(System.getProperty("nixek.agent.jar", "target/nixek-agent.jar"));

  @TempDir
  Path dir;
  String token;
  FakeReportApi api;
  Path log;

  @BeforeEach
  void startApi() throws IOException {
    assertThat(JAR).exists();
    token = TestJobs.token();
    api = new FakeReportApi(token, TestJobs.NAMESPACE, TestJobs.NAME);
    log = dir.resolve("agent.log");
  }

  @AfterEach
  void stopApi() {
    api.close();
  }

  private Process agent(List<String> jvmOptions, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", JAR.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("NIXEK_AGENT_LOG_LEVEL", "DEBUG");
    return pb.start();
  }

  private Process agent(AgentConfig config, String... extraArgs) throws IOException {
    List<String> args = new ArrayList<>(List.of("--config", TestJobs.write(dir, config).toString(),
        "--work-dir", dir.resolve("work").toString(), "--kill-grace-seconds", "1"));
    args.addAll(List.of(extraArgs));
    return agent(List.of(), args.toArray(String[]::new));
  }

  private int exitCode(Process p) throws Exception {
    try {
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("agent exited").isTrue();
    } finally {
      p.destroyForcibly();
    }
    return p.exitValue();
  }

  private String logText() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  @Test
  void theJarRunsAJobAndReportsItWithoutLoggingTheToken() throws Exception {
    Process p = agent(config(api.url(), token,
        run("build", "echo hello > shared.txt; echo built; echo warning >&2"),
        command("read", null, "cat", "shared.txt"),
        new AgentStep("env", "echo \"$GREETING\"", null, Map.of("GREETING", "hi"), null)));

    assertThat(exitCode(p)).as(logText()).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.output(0)).isEqualTo("built\nwarning\n");
    assertThat(api.output(1)).isEqualTo("hello\n");
    assertThat(api.output(2)).isEqualTo("hi\n");
    assertThat(logText()).contains("POST /v1/jobs/ci/hello-world/steps/2/finished -> 200")
        .doesNotContain(token).doesNotContain(token.substring(4));
    // the runnable jar configures logging in code (AgentLogging), not with logback's XML configurator
    assertThat(logText()).containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S+ DEBUG \\[[^]]+\\] "
        + "ReportClient - POST /v1/jobs/ci/hello-world/steps/0/started -> 200 \\(\\d+ ms\\)$");
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(JAR.toFile())) {
      var entry = jar.getEntry("META-INF/services/ch.qos.logback.classic.spi.Configurator");
      assertThat(entry).as("the configurator's service entry in the jar").isNotNull();
      assertThat(new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8).strip())
          .isEqualTo(AgentLogging.class.getName());
    }
  }

  @Test
  void sigtermKillsTheRunningStepAndReportsIt143() throws Exception {
    Process p = agent(config(api.url(), token,
        run("forever", "echo $$ > shell.pid; sleep 1000 & echo $! > child.pid; while true; do echo tick; sleep 0.2; done"),
        run("never", "touch ran-second")));
    await().atMost(Duration.ofSeconds(30)).until(() -> api.chunks(0) >= 1);

    p.destroy(); // SIGTERM, as systemd stopping the service

    assertThat(exitCode(p)).isEqualTo(143);
    assertThat(api.finished(0)).as(logText()).isNotNull();
    assertThat(api.finished(0).exitCode()).isEqualTo(Agent.SIGTERM_EXIT_CODE);
    assertThat(AgentTest.gone(dir.resolve("work/shell.pid"))).isTrue();
    assertThat(AgentTest.gone(dir.resolve("work/child.pid"))).isTrue();
    assertThat(dir.resolve("work/ran-second")).doesNotExist();
    assertThat(api.violations()).isEmpty();
  }

  @Test
  void theConfigComesFromImdsV2WhenTheMetadataServiceIsSlowToStart() throws Exception {
    String userData = Json.mapper().writeValueAsString(config(api.url(), token, run("hello", "echo from imds")));
    try (FakeImds imds = FakeImds.builder().userData(userData).unavailableForFirst(3).forgetTokensOnce().start()) {
      Process p = agent(List.of(), "--config-from-imds", imds.endpoint().toString(), "--work-dir", dir.resolve("work").toString());

      assertThat(exitCode(p)).as(logText()).isZero();
      assertThat(api.output(0)).isEqualTo("from imds\n");
      assertThat(ImdsConfigSourceTest.requests(imds)).containsSubsequence("PUT /latest/api/token -> 503",
          "PUT /latest/api/token -> 200", "GET /latest/user-data -> 401", "PUT /latest/api/token -> 200",
          "GET /latest/user-data -> 200");
      assertThat(logText()).doesNotContain(token).doesNotContain(FakeImds.TOKEN_PREFIX);
    }
  }

  @Test
  void poweroffRunsAfterTheJobAndDoesNotChangeTheExitCode() throws Exception {
    Path marker = dir.resolve("powered-off");
    Process p = agent(config(api.url(), token, run("fails", "exit 4")),
        "--poweroff", "--poweroff-command", "touch " + marker);
    assertThat(exitCode(p)).isEqualTo(1);
    assertThat(marker).exists();

    AgentConfig poweroffFromConfig = new AgentConfig(AgentConfig.VERSION, "uid", TestJobs.NAMESPACE, TestJobs.NAME,
        api.url(), token, List.of(), true);
    Process q = agent(poweroffFromConfig, "--poweroff-command", "echo poweroff failed; exit 5");
    assertThat(exitCode(q)).isZero();
    assertThat(logText()).contains("poweroff command failed with exit code 5");
  }

  @Test
  void aBadCommandLineOrConfigExits2() throws Exception {
    assertThat(exitCode(agent(List.of()))).isEqualTo(2);
    assertThat(logText()).contains("give exactly one of --config and --config-from-imds");
    Path bad = TestJobs.writeText(dir, "{\"version\":\"nixek.dev/agent-config/v0\"}");
    assertThat(exitCode(agent(List.of(), "--config", bad.toString()))).isEqualTo(2);
    assertThat(logText()).contains("config version must be");
  }

  @Test
  void fiftyMegabytesOfOutputPassThroughA32MegabyteHeap() throws Exception {
    long total = 50_000_000;
    Path cfg = TestJobs.write(dir, config(api.url(), token,
        run("huge", "yes abcdefghijklmnopqrstuvwxyz | head -c " + total)));
    // buffered in memory the output alone would not fit in this heap
    Process p = agent(List.of("-Xmx32m", "-XX:+ExitOnOutOfMemoryError"), "--config", cfg.toString(), "--work-dir",
        dir.resolve("work").toString());

    assertThat(exitCode(p)).as(logText()).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.finished(0).outputBytes()).isEqualTo(total);
    MessageDigest expected = FakeReportApi.sha256();
    byte[] line = "abcdefghijklmnopqrstuvwxyz\n".getBytes(StandardCharsets.US_ASCII);
    for (long left = total; left > 0; left -= line.length) {
      expected.update(line, 0, (int) Math.min(line.length, left));
    }
    assertThat(api.outputSha256(0)).isEqualTo(HexFormat.of().formatHex(expected.digest()));
  }
}
