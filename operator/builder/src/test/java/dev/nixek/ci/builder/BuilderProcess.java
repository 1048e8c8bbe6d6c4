package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code nixek-builder} as its own process, the way the pod does (its own environment, exit code,
 * stdout). In the {@code shaded-jar} test execution, which runs after {@code package}, that is the shaded jar
 * (its path comes in {@value #JAR_PROPERTY}); before packaging, the main class on the test class path.
 */
final class BuilderProcess {
  static final String JAR_PROPERTY = "nixek.builder.jar";

  private BuilderProcess() {}

  static Path jar() {
    String path = System.getProperty(JAR_PROPERTY);
    assertThat(path).as("system property " + JAR_PROPERTY + " (set by the shaded-jar execution in the pom)")
        .isNotNull();
    Path jar = Path.of(path);
    assertThat(jar).as("the shaded jar").isRegularFile();
    return jar;
  }

  static boolean jarInUse() {
    return System.getProperty(JAR_PROPERTY) != null;
  }

  record Result(int exitCode, String output) {}

  /** Starts nixek-builder with {@code args}; stdout and stderr go to {@code outputFile}. */
  static Process start(List<String> args, Map<String, String> env, Path outputFile) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    if (jarInUse()) {
      command.add("-jar");
      command.add(jar().toString());
    } else {
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Main.class.getName());
    }
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(name -> name.startsWith("AWS_"));
    // credentials as a pod gets them; no instance metadata lookups from a test machine
    pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(outputFile.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return pb.start();
  }

  static Result run(List<String> args, Map<String, String> env, Path outputFile) throws Exception {
    Process process = start(args, env, outputFile);
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      throw new AssertionError("nixek-builder did not finish in 5 minutes; output: " + Files.readString(outputFile));
    }
    return new Result(process.exitValue(), Files.readString(outputFile));
  }
}
