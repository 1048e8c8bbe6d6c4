package dev.nixek.ci.operator.machine.local;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The agent command of the {@code local} provider. The default names the agent's place in the image
 * ({@value #IMAGE_JAR}); an operator started from a clone has no such file, so there the jar the clone built
 * ({@code agent/target/nixek-agent.jar}) takes its place: found under {@code -Dnixek.home} if set, else next to the
 * running operator's code (its jar or classes directory lies inside the clone).
 */
public final class LocalAgentCommand {
  /** The agent jar in the image, as the default command names it. */
  public static final String IMAGE_JAR = "/opt/nixek/nixek-agent.jar";
  /** The agent jar a build of the clone makes, relative to the clone's root. */
  static final Path CLONE_JAR = Path.of("agent", "target", "nixek-agent.jar");

  private LocalAgentCommand() {}

  /** {@code configured}, with the image's jar replaced by the clone's when the image's does not exist here. */
  public static List<String> resolve(List<String> configured) {
    return resolve(configured, IMAGE_JAR, Optional.ofNullable(System.getProperty("nixek.home")).map(Path::of),
        codeLocation());
  }

  /**
   * {@code configured} with its argument {@code imageJar} replaced by the first clone jar that exists: under
   * {@code home}, else under the nearest ancestor of {@code codeLocation} that has one. Unchanged when the command
   * does not name {@code imageJar}, when that exists, or when no clone jar does (the launch then fails naming it).
   */
  static List<String> resolve(List<String> configured, String imageJar, Optional<Path> home,
      Optional<Path> codeLocation) {
    int i = configured.indexOf(imageJar);
    if (i < 0 || Files.exists(Path.of(imageJar))) {
      return configured;
    }
    List<Path> candidates = new ArrayList<>();
    home.ifPresent(h -> candidates.add(h.resolve(CLONE_JAR)));
    for (Path dir = codeLocation.map(Path::toAbsolutePath).orElse(null); dir != null; dir = dir.getParent()) {
      candidates.add(dir.resolve(CLONE_JAR));
    }
    return candidates.stream().filter(Files::isRegularFile).findFirst().map(jar -> {
      List<String> argv = new ArrayList<>(configured);
      argv.set(i, jar.toAbsolutePath().normalize().toString());
      return List.copyOf(argv);
    }).orElse(configured);
  }

  /** The operator's jar, or its classes directory when it runs from a build tree. */
  private static Optional<Path> codeLocation() {
    try {
      var source = LocalAgentCommand.class.getProtectionDomain().getCodeSource();
      return source == null ? Optional.empty() : Optional.of(Path.of(source.getLocation().toURI()));
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
