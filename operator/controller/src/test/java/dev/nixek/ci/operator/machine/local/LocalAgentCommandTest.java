package dev.nixek.ci.operator.machine.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.config.OperatorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local provider's default agent command works in the image and from a clone. */
class LocalAgentCommandTest {
  @TempDir
  Path tmp;

  @Test
  void theDefaultCommandNamesTheImagesJar() {
    assertThat(OperatorConfig.fromEnv(Map.of()).localAgentCommand())
        .containsExactly("java", "-jar", LocalAgentCommand.IMAGE_JAR);
  }

  @Test
  void theImagesJarIsKeptWhereItExists() throws Exception {
    String imageJar = jar(tmp.resolve("opt/nixek/nixek-agent.jar")).toString();
    Path clone = clone("clone");
    List<String> command = List.of("java", "-jar", imageJar);
    assertThat(LocalAgentCommand.resolve(command, imageJar, Optional.of(clone), Optional.empty()))
        .isEqualTo(command);
  }

  @Test
  void fromACloneTheJarItBuiltIsFoundNextToTheOperatorsJar() throws Exception {
    String imageJar = tmp.resolve("opt/nixek/nixek-agent.jar").toString();
    Path clone = clone("clone");
    Path operatorJar = clone.resolve("operator/controller/target/nixek-operator.jar");
    assertThat(LocalAgentCommand.resolve(List.of("java", "-Xmx256m", "-jar", imageJar), imageJar, Optional.empty(),
        Optional.of(operatorJar)))
        .containsExactly("java", "-Xmx256m", "-jar", clone.resolve("agent/target/nixek-agent.jar").toString());
    // tests run from the classes directory, at the same depth
    assertThat(LocalAgentCommand.resolve(List.of("java", "-jar", imageJar), imageJar, Optional.empty(),
        Optional.of(clone.resolve("operator/controller/target/classes"))))
        .containsExactly("java", "-jar", clone.resolve("agent/target/nixek-agent.jar").toString());
  }

  @Test
  void nixekHomeComesFirst() throws Exception {
    String imageJar = tmp.resolve("opt/nixek/nixek-agent.jar").toString();
    Path home = clone("home");
    Path other = clone("other");
    assertThat(LocalAgentCommand.resolve(List.of("java", "-jar", imageJar), imageJar, Optional.of(home),
        Optional.of(other.resolve("operator/controller/target/nixek-operator.jar"))))
        .containsExactly("java", "-jar", home.resolve("agent/target/nixek-agent.jar").toString());
  }

  @Test
  void anotherCommandOrNoCloneJarLeavesTheCommandAsConfigured() throws Exception {
    String imageJar = tmp.resolve("opt/nixek/nixek-agent.jar").toString();
    Path clone = clone("clone");
    List<String> own = List.of("java", "-jar", "/srv/agent.jar");
    assertThat(LocalAgentCommand.resolve(own, imageJar, Optional.of(clone), Optional.empty())).isEqualTo(own);
    List<String> image = List.of("java", "-jar", imageJar);
    assertThat(LocalAgentCommand.resolve(image, imageJar, Optional.of(tmp.resolve("empty")),
        Optional.of(tmp.resolve("nowhere/operator/controller/target/nixek-operator.jar")))).isEqualTo(image);
  }

  private Path clone(String name) throws Exception {
    Path root = tmp.resolve(name);
    jar(root.resolve("agent/target/nixek-agent.jar"));
    return root;
  }

  private static Path jar(Path path) throws Exception {
    Files.createDirectories(path.getParent());
    return Files.write(path, new byte[] {'P', 'K'});
  }
}
