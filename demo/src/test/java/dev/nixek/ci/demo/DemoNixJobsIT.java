package dev.nixek.ci.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README command 1 with a job written in Nix, as {@code ./demo.sh} runs it (the built jars of this clone, the
 * embedded API server, no KUBECONFIG): the job is evaluated by the operator as a local process and runs to
 * Succeeded with its evaluated steps and their output printed; a broken one ends EvaluationFailed with nix's message
 * and exit code 1. Needs nix-instantiate on PATH (under CI=true its absence fails).
 */
class DemoNixJobsIT {
  static final Path HOME = Path.of(System.getProperty("nixek.home", "..")).toAbsolutePath().normalize();

  @TempDir
  Path work;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  @BeforeEach
  void requireNix() {
    String path = System.getenv("PATH");
    boolean found = path != null && Arrays.stream(path.split(File.pathSeparator))
        .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "nix-instantiate")));
    if (!found && "true".equals(System.getenv("CI"))) {
      fail("nix-instantiate is required under CI=true (install Debian's nix-bin)");
    }
    assumeTrue(found, "skipped: nix-instantiate is not on PATH (install Debian's nix-bin to run this test)");
  }

  private int demo(String example) throws Exception {
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    return new Demo(out, HOME, work).run(HOME.resolve(example), Duration.ofSeconds(180), null);
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theHelloNixJobIsEvaluatedLocallyAndRunsToSucceededPrintingItsStepsAndTheirOutput() throws Exception {
    int code = demo("examples/hello-nix-job.yaml");

    assertThat(code).as(output()).isZero();
    assertThat(output()).contains(
        "==> Evaluating: evaluating spec.nix in a local process (pid ",
        "==> evaluated to 3 steps; its machine was not evaluated (provider local boots no machine)",
        "    greet        echo \"hello from a job written in Nix, on $(uname -s)\"",
        "    build        echo compiling parser; sleep 0.2\n                 echo compiling checker; sleep 0.2",
        "    test         cat artifact.txt",
        "[greet] | hello from a job written in Nix, on Linux",
        "[build] | compiling codegen",
        "[test] | built",
        "==> Succeeded: all 3 steps succeeded");
    assertThat(output().indexOf("==> evaluated")).isLessThan(output().indexOf("[greet] started"));
  }

  @Test
  void aBrokenNixJobEndsEvaluationFailedWithNixsMessage() throws Exception {
    int code = demo("examples/broken-nix-job.yaml");

    assertThat(code).as(output()).isEqualTo(1);
    assertThat(output()).contains("job default/broken-nix failed: evaluation of spec.nix failed: syntax error, "
        + "unexpected '}', expecting ';' (at spec.nix:4:40)").doesNotContain("[build]");
  }
}
