package dev.nixek.ci.testing.kube;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus's own {@code promtool} (built by {@code hack/build-promtool.sh} into the binary directory), run on
 * scraped text. Missing, it fails the test under {@code CI=true} and aborts it otherwise ({@link TestBinaries}).
 */
public final class Promtool {
  private final Path binary;

  private Promtool(Path binary) {
    this.binary = binary;
  }

  public static Promtool locate() {
    return new Promtool(TestBinaries.locate().require("promtool"));
  }

  /**
   * {@code promtool check metrics} on {@code exposition}: its format and Prometheus's naming conventions.
   *
   * @return what promtool printed (empty when it found nothing)
   * @throws AssertionError when promtool complains (its output is the message)
   */
  public String checkMetrics(String exposition) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(binary.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(exposition.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("promtool check metrics did not finish in 60 s");
    }
    if (p.exitValue() != 0 || !out.isBlank()) {
      throw new AssertionError("promtool check metrics (exit " + p.exitValue() + "):\n" + out);
    }
    return out;
  }
}
