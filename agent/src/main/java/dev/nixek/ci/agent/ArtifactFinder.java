package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.ArtifactPaths;
import dev.nixek.ci.protocol.ArtifactSpec;
import java.io.IOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * Expands an artifact's globs inside the working directory, and only there (docs/artifacts.md). The walk follows
 * symlinks so that a link inside the directory to a file inside it is kept, but every match is resolved to its real
 * path first: one that is outside the working directory (a symlink escaping it, to a file or through a directory) is
 * refused and reported, never read. A glob that is absolute or has a '..' segment (the CRD refuses those; this is
 * the agent's own guard) is refused as a whole. Directories that are links out of the working directory are not
 * entered. The agent's spool directory is never matched.
 */
final class ArtifactFinder {
  /** Matches kept per artifact at most: the report API's job limits are far lower by default. */
  static final int MAX_MATCHES = 10_000;

  /** A file to upload: its path relative to the working directory and the real file. */
  record Found(String path, Path file) {}

  /** A match (or glob) not uploaded, and why. */
  record Refused(String path, String reason) {}

  record Result(List<Found> found, List<Refused> refused) {}

  private final Path root;
  private final Path excluded;

  /** @param excluded a directory never matched (the spool), or null */
  ArtifactFinder(Path workDir, Path excluded) throws IOException {
    this.root = workDir.toRealPath();
    this.excluded = excluded == null ? null : excluded.toAbsolutePath().normalize();
  }

  Result find(ArtifactSpec spec) throws IOException {
    List<Found> found = new ArrayList<>();
    List<Refused> refused = new ArrayList<>();
    List<String> globs = new ArrayList<>();
    for (String g : spec.paths()) {
      var bad = ArtifactPaths.checkGlob(g);
      if (bad.isPresent()) {
        refused.add(new Refused(g, "refused: " + bad.get()));
      } else {
        globs.add(g);
      }
    }
    if (globs.isEmpty()) {
      return new Result(found, refused);
    }
    Files.walkFileTree(root, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (dir.equals(root)) {
          return FileVisitResult.CONTINUE;
        }
        if (excluded != null && dir.toAbsolutePath().normalize().equals(excluded)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        Path real = dir.toRealPath();
        if (!real.startsWith(root)) {
          String rel = relative(dir);
          if (mayMatchBelow(globs, rel)) {
            refused.add(new Refused(rel, "refused: a symlink to a directory outside the working directory ("
                + real + ")"));
          }
          return FileVisitResult.SKIP_SUBTREE;
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        String rel = relative(file);
        if (!ArtifactPaths.matches(globs, rel)) {
          return FileVisitResult.CONTINUE;
        }
        if (found.size() + refused.size() >= MAX_MATCHES) {
          return FileVisitResult.TERMINATE;
        }
        Path real = file.toRealPath();
        if (!real.startsWith(root)) {
          refused.add(new Refused(rel, "refused: a symlink escaping the working directory (to " + real + ")"));
        } else if (!attrs.isRegularFile()) {
          refused.add(new Refused(rel, "refused: not a regular file"));
        } else {
          found.add(new Found(rel, real));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        String rel = relative(file);
        if (ArtifactPaths.matches(globs, rel)) {
          refused.add(new Refused(rel, e instanceof FileSystemLoopException ? "refused: a symlink loop"
              : "refused: cannot read it (" + e.getClass().getSimpleName() + ")"));
        }
        return FileVisitResult.CONTINUE;
      }
    });
    found.sort(java.util.Comparator.comparing(Found::path));
    return new Result(found, refused);
  }

  private String relative(Path p) {
    return root.relativize(p).toString();
  }

  /** Whether a glob could match something below the directory {@code rel} (its leading segments match). */
  static boolean mayMatchBelow(List<String> globs, String rel) {
    String[] dir = rel.split("/");
    for (String g : globs) {
      String[] seg = g.split("/");
      int n = 0;
      boolean deep = false;
      for (; n < seg.length && n < dir.length; n++) {
        if (seg[n].contains("**")) {
          deep = true;
          break;
        }
      }
      if (deep) {
        String head = String.join("/", java.util.Arrays.copyOf(seg, n));
        String dirHead = String.join("/", java.util.Arrays.copyOf(dir, n));
        if (n == 0 || ArtifactPaths.matches(List.of(head), dirHead)) {
          return true;
        }
        continue;
      }
      if (seg.length > dir.length
          && ArtifactPaths.matches(List.of(String.join("/", java.util.Arrays.copyOf(seg, dir.length))), rel)) {
        return true;
      }
    }
    return false;
  }
}
