package dev.nixek.ci.e2e.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.operator.config.OperatorConfig;
import dev.nixek.ci.report.ReportApiConfig;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What goes into the image, without a Docker engine: {@code image/assemble.sh} lays out the file tree the Dockerfile
 * copies, and every command is started from it through the entrypoint, as the chart's containers start them.
 */
class ImageLayoutTest {
  static final Path HOME = Path.of(System.getProperty("nixek.home", "..")).toAbsolutePath().normalize();
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  @TempDir
  static Path root;
  static Path entrypoint;

  record Run(int exit, String out, String err) {}

  @BeforeAll
  static void assemble() throws Exception {
    Run r = run(List.of(HOME.resolve("image/assemble.sh").toString(), root.toString()), Map.of());
    assertThat(r.exit()).as(r.err()).isZero();
    entrypoint = root.resolve("opt/nixek/bin/nixek");
  }

  /** Builder and evaluation pods find the Nix library where NIXEK_IMAGE_NIX_DIR says by default: all of it. */
  @Test
  void theImageHoldsTheNixLibraryWithoutItsTestsWhereTheOperatorLooksByDefault() throws IOException {
    Path nix = root.resolve(ImageOptions.NIX_DIR.defaultValue().substring(1));
    Path source = HOME.resolve("nix");
    List<String> expected;
    try (Stream<Path> files = Files.walk(source)) {
      expected = files.filter(Files::isRegularFile).map(p -> source.relativize(p).toString())
          .filter(p -> !p.startsWith("tests/")).sorted().toList();
    }
    assertThat(expected).contains("eval.nix", "machine.nix");
    try (Stream<Path> files = Files.walk(nix)) {
      assertThat(files.filter(Files::isRegularFile).map(p -> nix.relativize(p).toString()).sorted().toList())
          .isEqualTo(expected);
    }
    for (String f : expected) {
      assertThat(Files.mismatch(source.resolve(f), nix.resolve(f))).as(f).isEqualTo(-1L);
    }
  }

  /**
   * A machine's drvPath includes the agent jar, by content: evaluated from the image's Nix library with the image's jar
   * (where the operator tells the pods it is by default), the seed job gives the machine identity the repository gives
   * with the jar its build made (real nix, the stub nixpkgs). The image carries no agent sources.
   */
  @Test
  void evaluatedFromTheImageAJobsMachineHasTheRepositorysDrvPath() throws Exception {
    RequiredTools.nix();
    Path imageNix = root.resolve(ImageOptions.NIX_DIR.defaultValue().substring(1));
    Path imageJar = root.resolve(ImageOptions.AGENT_JAR.defaultValue().substring(1));
    Run fromRepo = evaluateSeed(HOME.resolve("nix"), HOME.resolve("agent/target/nixek-agent.jar"));
    Run fromImage = evaluateSeed(imageNix, imageJar);
    assertThat(fromRepo.exit()).as(fromRepo.err()).isZero();
    assertThat(fromImage.exit()).as(fromImage.err()).isZero();
    assertThat(fromRepo.out()).contains("\"drvPath\":\"/nix/store/");
    assertThat(fromImage.out()).isEqualTo(fromRepo.out());
    assertThat(root.resolve("opt/nixek/src/agent")).doesNotExist();
    assertThat(root.resolve("opt/nixek/src/pom.xml")).doesNotExist();
  }

  private static Run evaluateSeed(Path nixDir, Path agentJar) throws Exception {
    return run(List.of("nix-instantiate", "--eval", "--strict", "--json", nixDir.resolve("eval.nix").toString(),
        "--argstr", "jobFile", HOME.resolve("nix/tests/jobs/seed.nix").toString(),
        "--argstr", "nixpkgs", HOME.resolve("nix/tests/stub-nixpkgs").toString(),
        "--argstr", "agentJar", agentJar.toString()), Map.of());
  }

  @Test
  void theImageHoldsOneJarPerCommandAndTheEntrypoint() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      assertThat(files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString())
              .filter(p -> !p.startsWith("opt/nixek/src/")).sorted().toList())
          .containsExactly("opt/nixek/bin/nixek", "opt/nixek/nixek-agent.jar", "opt/nixek/nixek-builder.jar",
              "opt/nixek/nixek-operator.jar", "opt/nixek/nixek-report-api.jar");
    }
    assertThat(Files.isExecutable(entrypoint)).isTrue();
    // the local provider's default agent command names the agent's place in the image
    assertThat(OperatorConfig.LOCAL_AGENT_COMMAND.defaultValue()).isEqualTo("java -jar /opt/nixek/nixek-agent.jar");
  }

  @Test
  void everyCommandStartsThroughTheEntrypoint() throws Exception {
    Run op = nixek(Map.of(), "operator", "--help");
    assertThat(op.exit()).as(op.err()).isZero();
    OperatorConfig.OPTIONS.forEach(o -> assertThat(op.out()).contains(o.key()));
    Run api = nixek(Map.of(), "report-api", "--help");
    assertThat(api.exit()).as(api.err()).isZero();
    ReportApiConfig.OPTIONS.forEach(o -> assertThat(api.out()).contains(o.key()));
    Run builder = nixek(Map.of(), "builder", "--help");
    assertThat(builder.exit()).as(builder.err()).isZero();
    assertThat(builder.out() + builder.err()).contains("--bucket");
    Run agent = nixek(Map.of(), "agent", "--help");
    assertThat(agent.exit()).as(agent.err()).isZero();
    assertThat(agent.out() + agent.err()).contains("--config");
  }

  /**
   * Builder pods run the operator's NIXEK_BUILDER_COMMAND in the image (by default the chart's own image): the
   * default must be the image's entrypoint with its builder command, taking the operator's arguments.
   */
  @Test
  void theOperatorsDefaultBuilderCommandIsTheImagesEntrypointRunningTheBuilder() throws Exception {
    List<String> command = OperatorConfig.fromEnv(Map.of()).images().builderCommand();
    String dockerfile = Files.readString(HOME.resolve("Dockerfile"), StandardCharsets.UTF_8);
    assertThat(dockerfile).contains("ENTRYPOINT [\"" + command.get(0) + "\"]");
    assertThat(command).containsExactly("/opt/nixek/bin/nixek", "builder");
    // run it from the assembled tree, with the argument the operator puts first and --help
    List<String> inTree = new ArrayList<>(List.of(root.resolve(command.get(0).substring(1)).toString()));
    inTree.addAll(command.subList(1, command.size()));
    inTree.addAll(List.of("build", "--help"));
    Map<String, String> env = Map.of("JAVA", JAVA, "JAVA_OPTS", "-XX:TieredStopAtLevel=1 -Xmx128m");
    Run r = run(inTree, env);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out() + r.err()).contains("--expr-file").contains("--bucket").contains("--termination-log");
  }

  @Test
  void anUnknownCommandOrNoneExitsWithTheListOfCommands() throws Exception {
    for (List<String> args : List.<List<String>>of(List.of(), List.of("nope"), List.of("../operator"),
        List.of(".hidden"))) {
      Run r = nixek(Map.of(), args.toArray(String[]::new));
      assertThat(r.exit()).as("%s", args).isEqualTo(64);
      assertThat(r.err()).as("%s", args).contains("commands: agent builder operator report-api");
    }
    Run help = nixek(Map.of(), "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("commands: agent builder operator report-api");
  }

  /** A value a program cannot use stops it at start-up, naming the option, before it touches any API. */
  @Test
  void anInvalidOptionStopsStartUpNamingTheOption() throws Exception {
    Run op = nixek(Map.of("NIXEK_POLL_SECONDS", "soon"), "operator");
    assertThat(op.exit()).isEqualTo(64);
    assertThat(op.err()).contains("invalid configuration: NIXEK_POLL_SECONDS='soon': expected a number of seconds");
    Run lease = nixek(Map.of("NIXEK_LEADER_LEASE_NAME", "Leader!"), "operator");
    assertThat(lease.exit()).isEqualTo(64);
    assertThat(lease.err()).contains("NIXEK_LEADER_LEASE_NAME='Leader!'");
    Run api = nixek(Map.of("NIXEK_REPORT_PORT", "eighty"), "report-api");
    assertThat(api.exit()).isEqualTo(2);
    assertThat(api.err()).contains("invalid configuration: NIXEK_REPORT_PORT='eighty'");
  }

  @Test
  void theDockerfileBuildsTheModulesAssembleShNamesAndRunsItsEntrypointAsTheChartsUser() throws Exception {
    String dockerfile = Files.readString(HOME.resolve("Dockerfile"), StandardCharsets.UTF_8);
    Run modules = run(List.of(HOME.resolve("image/assemble.sh").toString(), "--modules"), Map.of());
    assertThat(modules.out().trim()).isEqualTo("operator/controller,operator/report-api,operator/builder,agent");
    assertThat(dockerfile).contains("-pl \"$(image/assemble.sh --modules)\" -am package")
        .contains("image/assemble.sh /out").contains("COPY --from=build /out/ /")
        .contains("ENTRYPOINT [\"/opt/nixek/bin/nixek\"]").contains("USER 65532:65532");
    // the image's Nix is the tests' Nix: the suite and package version hack/nix-version pins
    String pin = Files.readString(HOME.resolve("hack/nix-version"), StandardCharsets.UTF_8);
    assertThat(pin).containsPattern("(?m)^NIX_DEB_SUITE=trixie$").containsPattern("(?m)^NIX_DEB_VERSION=\\S+$");
    assertThat(dockerfile).contains("ARG BASE=debian:trixie-slim").contains("COPY hack/nix-version ")
        .contains("\"nix-bin=${NIX_DEB_VERSION}\"");
    String values = Files.readString(HOME.resolve("charts/nixek-ci/values.yaml"), StandardCharsets.UTF_8);
    assertThat(values).contains("runAsUser: 65532").contains("runAsGroup: 65532");
  }

  private static Run nixek(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(entrypoint.toString()));
    cmd.addAll(List.of(args));
    Map<String, String> e = new java.util.HashMap<>(env);
    e.put("JAVA", JAVA);
    e.put("JAVA_OPTS", "-XX:TieredStopAtLevel=1 -Xmx128m");
    return run(cmd, e);
  }

  private static Run run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("NIXEK_") || k.equals("KUBECONFIG"));
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + cmd);
    }
    return new Run(p.exitValue(), out.join(), err.join());
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
