package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/** Configs, tokens and an in-process agent for the tests. */
final class TestJobs {
  static final String NAMESPACE = "ci";
  static final String NAME = "hello-world";

  private TestJobs() {}

  /** A token shaped like a real one, so that a leak is easy to grep. */
  static String token() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return "nxk_" + HexFormat.of().formatHex(b);
  }

  static AgentStep run(String name, String script) {
    return new AgentStep(name, script, null, null, null);
  }

  static AgentStep run(String name, String script, long timeoutSeconds) {
    return new AgentStep(name, script, null, null, timeoutSeconds);
  }

  static AgentStep command(String name, Map<String, String> env, String... argv) {
    return new AgentStep(name, null, List.of(argv), env, null);
  }

  static AgentConfig config(String reportUrl, String token, AgentStep... steps) {
    return new AgentConfig(AgentConfig.VERSION, "0b0c5f3e-7d7c-4e8e-9a55-3f7d8f5e0c11", NAMESPACE, NAME, reportUrl,
        token, List.of(steps), null);
  }

  static Path write(Path dir, AgentConfig config) throws IOException {
    Path file = dir.resolve("agent-config.json");
    Files.write(file, Json.mapper().writeValueAsBytes(config));
    return file;
  }

  static Path writeText(Path dir, String json) throws IOException {
    Path file = dir.resolve("agent-config.json");
    Files.writeString(file, json, StandardCharsets.UTF_8);
    return file;
  }

  /**
   * Runs the agent in this JVM on its own thread (as {@code main} would, minus System.exit), with a work dir
   * under {@code dir} and a short kill grace.
   */
  static CompletableFuture<Integer> start(Path dir, AgentConfig config, String... extraArgs) throws IOException {
    Path file = write(dir, config);
    List<String> args = new ArrayList<>(List.of("--config", file.toString(), "--work-dir",
        dir.resolve("work").toString(), "--kill-grace-seconds", "1"));
    args.addAll(List.of(extraArgs));
    return startArgs(args.toArray(String[]::new));
  }

  static CompletableFuture<Integer> startArgs(String... args) {
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        exit.complete(Main.run(new AtomicReference<>(), args));
      } catch (Throwable e) {
        exit.completeExceptionally(e);
      }
    }, "agent-under-test");
    t.setDaemon(true);
    t.start();
    return exit;
  }
}
