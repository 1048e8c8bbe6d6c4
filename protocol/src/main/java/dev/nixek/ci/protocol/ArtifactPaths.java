package dev.nixek.ci.protocol;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The rules for artifact names, declared globs and the relative paths of uploaded files (docs/artifacts.md), shared
 * by the CRD's checks, the agent and the report API so that they never disagree. A path is relative and normalised:
 * no leading '/', no empty, '.' or '..' segment, no backslash and no control character. The report API accepts a
 * file only when its path matches one of the artifact's globs ({@link #matches}, Java's glob syntax: {@code *} within
 * a directory, {@code **} across directories).
 */
public final class ArtifactPaths {
  /** An artifact name: letters, digits, '.', '_', '-', starting with a letter or digit, at most 100 characters. */
  public static final String NAME = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";
  /** The longest relative path (characters) and glob accepted. */
  public static final int MAX_PATH = 1024;
  /** At most this many globs per artifact and artifacts per step. */
  public static final int MAX_GLOBS = 16;
  public static final int MAX_ARTIFACTS = 16;
  private static final Pattern NAME_PATTERN = Pattern.compile(NAME);

  private ArtifactPaths() {}

  /** Why {@code name} is not an artifact name, or empty when it is one. */
  public static Optional<String> checkName(String name) {
    if (name == null || !NAME_PATTERN.matcher(name).matches()) {
      return Optional.of("artifact name must be 1-100 of A-Z, a-z, 0-9, '.', '_', '-', starting with a letter or "
          + "digit, got '" + shorten(name) + "'");
    }
    return Optional.empty();
  }

  /** Why {@code path} is not a relative, normalised path inside the working directory, or empty when it is one. */
  public static Optional<String> checkPath(String path) {
    if (path == null || path.isEmpty()) {
      return Optional.of("the path is empty");
    }
    if (path.length() > MAX_PATH) {
      return Optional.of("the path is longer than " + MAX_PATH + " characters");
    }
    if (path.startsWith("/")) {
      return Optional.of("'" + shorten(path) + "' is absolute: paths are relative to the working directory");
    }
    if (path.indexOf('\\') >= 0 || path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      return Optional.of("'" + shorten(path) + "' holds a backslash or a control character");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return Optional.of("'" + shorten(path) + "' has an empty, '.' or '..' segment: paths stay inside the working "
            + "directory");
      }
    }
    return Optional.empty();
  }

  /** Why {@code glob} is not a usable glob (the path rules, and Java's glob syntax), or empty. */
  public static Optional<String> checkGlob(String glob) {
    Optional<String> path = checkPath(glob);
    if (path.isPresent()) {
      return path;
    }
    try {
      FileSystems.getDefault().getPathMatcher("glob:" + glob);
    } catch (IllegalArgumentException e) {
      return Optional.of("'" + shorten(glob) + "' is not a glob: " + e.getMessage());
    }
    return Optional.empty();
  }

  /** Why {@code spec} is not a valid artifact declaration, or empty. */
  public static Optional<String> check(ArtifactSpec spec) {
    if (spec == null) {
      return Optional.of("an artifact is null");
    }
    Optional<String> name = checkName(spec.name());
    if (name.isPresent()) {
      return name;
    }
    if (spec.paths() == null || spec.paths().isEmpty() || spec.paths().size() > MAX_GLOBS) {
      return Optional.of("artifact '" + spec.name() + "' needs 1-" + MAX_GLOBS + " paths");
    }
    for (String g : spec.paths()) {
      Optional<String> bad = checkGlob(g);
      if (bad.isPresent()) {
        return Optional.of("artifact '" + spec.name() + "': " + bad.get());
      }
    }
    return Optional.empty();
  }

  /** Whether the relative {@code path} (already checked) matches one of {@code globs}. */
  public static boolean matches(List<String> globs, String path) {
    Path p = Path.of(path);
    for (String g : globs) {
      PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + g);
      if (m.matches(p)) {
        return true;
      }
    }
    return false;
  }

  private static String shorten(String s) {
    if (s == null) {
      return "null";
    }
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
