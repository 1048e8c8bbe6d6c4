package dev.nixek.ci.builder;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the image build ({@code /bin/sh -c <command>}), streams its output to the pod log, and returns the Nix
 * output path the command printed as its last stdout line.
 */
public final class BuildCommand {
  /**
   * {@code nix-build} rather than {@code nix build --print-out-paths}: it prints the output path on stdout
   * (logs go to stderr) on every Nix version, and older Nix (Debian bookworm's 2.8) does not know
   * {@code --print-out-paths} (added in 2.9). The flakes feature is on because the machine of a flake job is built from its flake.
   */
  public static final String DEFAULT_COMMAND =
      "nix-build --no-out-link --extra-experimental-features 'nix-command flakes' \"$NIXEK_IMAGE_EXPR\"";

  public static final String EXPR_ENV = "NIXEK_IMAGE_EXPR";

  private static final Logger LOG = LoggerFactory.getLogger(BuildCommand.class);

  private final String command;
  private final Map<String, String> environment;
  private final OutputStream log;
  private final LogTail tail;

  /** @param environment the build's environment, before the {@code AWS_*} variables are removed */
  public BuildCommand(String command, Map<String, String> environment, OutputStream log, LogTail tail) {
    this.command = command;
    this.environment = Map.copyOf(environment);
    this.log = log;
    this.tail = tail;
  }

  public Path run() throws BuilderException, InterruptedException {
    ProcessBuilder pb = ChildEnvironment.apply(new ProcessBuilder("/bin/sh", "-c", command), environment);
    pb.redirectInput(new File("/dev/null"));
    LOG.info("build: {}", command);
    KilledOnShutdown child = KilledOnShutdown.start(pb, "build-command-killer", "the build command");
    Process process = child.process();
    int exit;
    OutputPump stdout = new OutputPump(process.getInputStream(), log, tail);
    try {
      Thread out = new Thread(stdout, "build-stdout");
      Thread err = new Thread(new OutputPump(process.getErrorStream(), log, tail), "build-stderr");
      out.start();
      err.start();
      try {
        exit = process.waitFor();
        out.join();
        err.join();
      } catch (InterruptedException e) {
        child.destroyTree();
        throw e;
      }
    } finally {
      child.close();
    }
    if (exit != 0) {
      throw BuilderException.build("build command exited with status " + exit);
    }
    String last = stdout.lastLine();
    if (last == null) {
      throw BuilderException.build("build command printed no output path on stdout");
    }
    Path outPath = Path.of(last);
    if (!outPath.isAbsolute() || !Files.exists(outPath)) {
      throw BuilderException.build("last line of the build's stdout is not an existing absolute path: " + last);
    }
    LOG.info("build output: {}", outPath);
    return outPath;
  }
}
