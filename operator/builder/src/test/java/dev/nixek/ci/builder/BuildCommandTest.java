package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildCommandTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final LogTail tail = new LogTail();

  private Path run(String command, Map<String, String> env) throws Exception {
    return new BuildCommand(command, env, log, tail).run();
  }

  private Path run(String command) throws Exception {
    return run(command, Map.of("PATH", "/usr/bin:/bin"));
  }

  private String log() {
    return log.toString(StandardCharsets.UTF_8);
  }

  @Test
  void returnsTheLastStdoutLineAndStreamsBothStreams() throws Exception {
    Path out = Files.createDirectory(dir.resolve("out"));
    Path result = run("echo building >&2; echo progress; echo error-stream-line >&2; echo '" + out + "'; echo");
    assertThat(result).isEqualTo(out);
    assertThat(log()).contains("building\n", "progress\n", "error-stream-line\n", out + "\n");
    assertThat(tail.text()).contains("building", "error-stream-line", out.toString());
  }

  @Test
  void failingCommandIsABuildFailureWithItsOutputInTheTail() {
    assertThatThrownBy(() -> run("echo 'error: builder for foo.drv failed' >&2; exit 3"))
        .isInstanceOfSatisfying(BuilderException.class, e -> {
          assertThat(e.exitCode()).isEqualTo(ExitCode.BUILD_FAILED);
          assertThat(e).hasMessageContaining("status 3");
        });
    assertThat(tail.text()).contains("error: builder for foo.drv failed");
  }

  @Test
  void lastLineMustBeAnExistingPath() {
    assertThatThrownBy(() -> run("echo /nonexistent/nix/store/path"))
        .isInstanceOf(BuilderException.class).hasMessageContaining("not an existing absolute path");
    assertThatThrownBy(() -> run("echo relative/path"))
        .isInstanceOf(BuilderException.class).hasMessageContaining("not an existing absolute path");
    assertThatThrownBy(() -> run("echo only-stderr >&2"))
        .isInstanceOf(BuilderException.class).hasMessageContaining("printed no output path");
  }

  @Test
  void exportsTheExpressionButNoAwsCredentials() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", "/usr/bin:/bin");
    env.put(BuildCommand.EXPR_ENV, "/etc/nixek/image.nix");
    env.put("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE");
    env.put("AWS_SECRET_ACCESS_KEY", "secret-that-the-build-must-not-see");
    env.put("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token");
    run("env; echo " + dir, env);
    assertThat(log()).contains("NIXEK_IMAGE_EXPR=/etc/nixek/image.nix").doesNotContain("AWS_");
  }

  @Test
  void linesOfTheTwoStreamsAreNeverInterleaved() throws Exception {
    String line = "y".repeat(300);
    run("for i in $(seq 2000); do echo out-" + line + "; done & "
        + "for i in $(seq 2000); do echo err-" + line + " >&2; done; wait; echo " + dir);
    for (String l : log().split("\n")) {
      assertThat(l).matches("(out-|err-)" + line + "|" + dir);
    }
    assertThat(log().split("\n")).hasSize(4001);
  }

  @Test
  void overlongLinesAreForwardedInPiecesAndTheLastLineStillFound() throws Exception {
    int length = OutputPump.MAX_LINE * 3 + 17;
    Path result = run("head -c " + length + " /dev/zero | tr '\\0' z; echo; printf '%s' " + dir);
    assertThat(result).isEqualTo(dir);
    assertThat(log().chars().filter(c -> c == 'z').count()).isEqualTo(length);
  }
}
