package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleting the builder pod sends SIGTERM: the build must not outlive it, and the message must say why. */
class SignalIT {
  @TempDir
  Path dir;

  @Test
  void sigtermDuringTheBuildKillsItAndLeavesATerminationMessage() throws Exception {
    Path pidFile = dir.resolve("build.pid");
    Path terminationLog = dir.resolve("termination-log");
    Process builder = BuilderProcess.start(List.of("build", "--bucket", "b", "--region", "us-east-1",
        "--termination-log", terminationLog.toString(),
        "--build-command", "echo building for a long time >&2; echo $$ > " + pidFile + "; exec sleep 120"),
        Map.of(), dir.resolve("output.txt"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(Files.exists(pidFile) && Files.size(pidFile) > 0) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    long buildPid = Long.parseLong(Files.readString(pidFile).strip());
    assertThat(ProcessHandle.of(buildPid)).isPresent();

    builder.destroy(); // SIGTERM
    assertThat(builder.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(builder.exitValue()).isEqualTo(128 + 15);
    JsonNode message = new ObjectMapper().readTree(terminationLog.toFile());
    assertThat(message.get("error").asText()).isEqualTo("terminated by a signal before the image was uploaded");
    assertThat(message.get("logTail").asText()).contains("building for a long time");
    // the build command got SIGTERM from the builder's shutdown hook
    ProcessHandle build = ProcessHandle.of(buildPid).orElse(null);
    if (build != null) {
      build.onExit().get(10, TimeUnit.SECONDS);
    }
  }
}
