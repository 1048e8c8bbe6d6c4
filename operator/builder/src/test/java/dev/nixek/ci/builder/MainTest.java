package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failures that happen before S3 is contacted; the S3 paths are in MainIT. */
class MainTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> ENV = Map.of("PATH", "/usr/bin:/bin",
      "AWS_SECRET_ACCESS_KEY", "main-test-secret-value");

  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private int run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--termination-log");
    all.add(dir.resolve("termination-log").toString());
    return new Main(ENV, new PrintStream(out, true, StandardCharsets.UTF_8)).run(all.toArray(String[]::new));
  }

  private JsonNode terminationMessage() throws Exception {
    byte[] bytes = Files.readAllBytes(dir.resolve("termination-log"));
    assertThat(bytes.length).isLessThanOrEqualTo(4096);
    return JSON.readTree(bytes);
  }

  @Test
  void helpPrintsUsage() {
    assertThat(new Main(ENV, new PrintStream(out, true, StandardCharsets.UTF_8)).run(new String[] {"--help"}))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: java -jar nixek-builder.jar build");
  }

  @Test
  void usageErrorExits64WithATerminationMessage() throws Exception {
    assertThat(run("build", "--bucket", "b", "--frobnicate")).isEqualTo(64);
    assertThat(terminationMessage().get("error").asText()).isEqualTo("unknown option --frobnicate");
    assertThat(terminationMessage().get("logTail").asText()).isEmpty();
  }

  @Test
  void failedBuildExits2WithTheBuildLogTail() throws Exception {
    int exit = run("build", "--bucket", "b", "--region", "us-east-1", "--build-command",
        // like nix-build: the build log and the error both on stderr (order across two pipes is not kept)
        "for i in $(seq 5000); do echo \"building step $i\" >&2; done; "
            + "echo 'error: builder for /nix/store/abc-image.drv failed with exit code 1' >&2; exit 1");
    assertThat(exit).isEqualTo(ExitCode.BUILD_FAILED);
    JsonNode message = terminationMessage();
    assertThat(message.get("error").asText()).isEqualTo("build command exited with status 1");
    assertThat(message.get("logTail").asText())
        .startsWith(TerminationMessage.ELLIPSIS)
        .endsWith("error: builder for /nix/store/abc-image.drv failed with exit code 1\n")
        .contains("building step 5000");
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("building step 1\n", "building step 5000\n");
  }

  @Test
  void buildWithoutImageExits2() throws Exception {
    Path output = Files.createDirectory(dir.resolve("out"));
    Files.writeString(output.resolve("README"), "no image here");
    assertThat(run("build", "--bucket", "b", "--drv-path", "/nix/store/a.drv", "--build-command", "echo " + output))
        .isEqualTo(ExitCode.BUILD_FAILED);
    assertThat(terminationMessage().get("error").asText()).startsWith("no disk image");
  }

  @Test
  void secretsNeverReachTheTerminationMessage() throws Exception {
    assertThat(run("build", "--bucket", "b", "--build-command",
        "echo main-test-secret-value; exit 1")).isEqualTo(ExitCode.BUILD_FAILED);
    // the build cannot see the variable (AWS_* are removed), so it echoes an empty line; had it leaked, the
    // redactor would mask it
    assertThat(Files.readString(dir.resolve("termination-log"))).doesNotContain("main-test-secret-value");
  }

  @Test
  void unwritableTerminationLogDoesNotChangeTheExitCode() {
    String[] args = {"build", "--bucket", "b", "--build-command", "exit 1", "--termination-log",
        "/nonexistent-dir/termination-log"};
    assertThat(new Main(ENV, new PrintStream(out, true, StandardCharsets.UTF_8)).run(args))
        .isEqualTo(ExitCode.BUILD_FAILED);
  }
}
