package dev.nixek.ci.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The controller's packages depend on each other in one direction only: a package that needs something of another
 * which needs it back cannot be read, tested or moved on its own. Reads the sources (imports, static imports and
 * fully-qualified references; comments and strings do not count) and fails naming each cycle and the classes that
 * make its edges.
 */
class PackageCyclesTest {
  private static final Path SOURCES = Path.of("src/main/java");
  private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  /** A reference into the controller: lower-case package segments, then a type (or a wildcard import). */
  private static final Pattern REFERENCE =
      Pattern.compile("\\bdev\\.nixek\\.ci\\.operator((?:\\.[a-z_][a-z0-9_]*)*)\\s*\\.\\s*(?:[A-Z]\\w*|\\*)");
  private static final String ROOT = "dev.nixek.ci.operator";

  @Test
  void theControllersPackagesHaveNoCycle() throws IOException {
    Map<String, Map<String, Set<String>>> graph = graph(SOURCES);
    assertThat(graph).as("the controller's sources under " + SOURCES.toAbsolutePath()).containsKey(ROOT + ".job");
    List<String> cycles = cycles(graph);
    assertThat(cycles).as("package cycles (each edge: the classes that make it)").isEmpty();
  }

  @Test
  void aCycleIsFoundAndNamed() {
    Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
    graph.put("a", Map.of("b", Set.of("A1")));
    graph.put("b", Map.of("c", Set.of("B1")));
    graph.put("c", Map.of("a", Set.of("C1"), "d", Set.of("C2")));
    graph.put("d", Map.of());
    assertThat(cycles(graph)).containsExactly("a -> b [A1] -> c [B1] -> a [C1]");
    graph.put("c", Map.of("d", Set.of("C2")));
    assertThat(cycles(graph)).isEmpty();
  }

  @Test
  void referencesInCommentsAndStringsDoNotCount() {
    String source = """
        package dev.nixek.ci.operator.x;
        import dev.nixek.ci.operator.y.Y;
        import static dev.nixek.ci.operator.z.Z.CONSTANT;
        /** {@link dev.nixek.ci.operator.c.C} */
        class X { // dev.nixek.ci.operator.d.D
          String s = "dev.nixek.ci.operator.e.E";
          dev.nixek.ci.operator.w.W w;
        }
        """;
    assertThat(references(source)).containsExactlyInAnyOrder(ROOT + ".y", ROOT + ".z", ROOT + ".w");
  }

  /** Package → package it references → the classes of the first that do. Only packages of these sources. */
  static Map<String, Map<String, Set<String>>> graph(Path sources) throws IOException {
    Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
    Map<String, Set<String>> referencesOf = new LinkedHashMap<>();
    try (Stream<Path> files = Files.walk(sources)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
        String source = read(file);
        Matcher p = PACKAGE.matcher(source);
        String pkg = p.find() ? p.group(1) : "";
        String className = file.getFileName().toString().replace(".java", "");
        graph.computeIfAbsent(pkg, k -> new TreeMap<>());
        referencesOf.put(pkg + "." + className, references(source));
      }
    }
    referencesOf.forEach((cls, targets) -> {
      String pkg = cls.substring(0, cls.lastIndexOf('.'));
      for (String target : targets) {
        if (!target.equals(pkg) && graph.containsKey(target)) {
          graph.get(pkg).computeIfAbsent(target, k -> new TreeSet<>()).add(cls.substring(pkg.length() + 1));
        }
      }
    });
    return graph;
  }

  /** The controller packages {@code source} refers to, outside comments and string literals. */
  static Set<String> references(String source) {
    Set<String> packages = new TreeSet<>();
    Matcher m = REFERENCE.matcher(code(source));
    while (m.find()) {
      packages.add(ROOT + m.group(1));
    }
    return packages;
  }

  /**
   * The shortest cycle through each package, skipping packages already shown in one, as
   * {@code a -> b [classes of a] -> a [classes of b]}.
   */
  static List<String> cycles(Map<String, Map<String, Set<String>>> graph) {
    List<String> cycles = new ArrayList<>();
    Set<String> reported = new TreeSet<>();
    for (String start : graph.keySet()) {
      if (reported.contains(start)) {
        continue;
      }
      Optional<List<String>> path = shortestPathBack(graph, start);
      if (path.isPresent()) {
        List<String> p = path.get();
        StringBuilder s = new StringBuilder(p.get(0));
        for (int i = 1; i < p.size(); i++) {
          s.append(" -> ").append(p.get(i)).append(' ').append(graph.get(p.get(i - 1)).get(p.get(i)));
        }
        cycles.add(s.toString());
        reported.addAll(p);
      }
    }
    return cycles;
  }

  /** The shortest path from {@code start} back to itself (breadth first), both ends included. */
  private static Optional<List<String>> shortestPathBack(Map<String, Map<String, Set<String>>> graph, String start) {
    Map<String, String> cameFrom = new LinkedHashMap<>();
    ArrayDeque<String> queue = new ArrayDeque<>(List.of(start));
    while (!queue.isEmpty()) {
      String at = queue.poll();
      for (String next : graph.get(at).keySet()) {
        if (next.equals(start)) {
          List<String> path = new ArrayList<>(List.of(start));
          for (String p = at; !p.equals(start); p = cameFrom.get(p)) {
            path.add(0, p);
          }
          path.add(0, start);
          return Optional.of(path);
        }
        if (!cameFrom.containsKey(next)) {
          cameFrom.put(next, at);
          queue.add(next);
        }
      }
    }
    return Optional.empty();
  }

  /** {@code source} with comments, string, text-block and char literals blanked. */
  static String code(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int i = 0;
    int n = source.length();
    while (i < n) {
      char c = source.charAt(i);
      if (source.startsWith("//", i)) {
        int end = source.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (source.startsWith("/*", i)) {
        int end = source.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
        out.append(' ');
      } else if (source.startsWith("\"\"\"", i)) {
        int end = source.indexOf("\"\"\"", i + 3);
        while (end > 0 && source.charAt(end - 1) == '\\') {
          end = source.indexOf("\"\"\"", end + 1);
        }
        i = end < 0 ? n : end + 3;
        out.append("\"\"");
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
          j += source.charAt(j) == '\\' ? 2 : 1;
        }
        i = j + 1;
        out.append(c).append(c);
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
