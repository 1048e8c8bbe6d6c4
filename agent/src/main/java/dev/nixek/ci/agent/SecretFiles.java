package dev.nixek.ci.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The job's secrets directory ({@code $NIXEK_SECRETS_DIR}): outside the working tree, so a step that archives or
 * uploads its working directory does not take them along; owned by the step user, mode 0700, its files 0400. It
 * holds the files of the running step only (emptied before each step) and is removed when the job ends.
 */
final class SecretFiles implements AutoCloseable {
  private final Path parent;
  private final Optional<RunAs> runAs;
  private Path dir;

  SecretFiles(Path parent, Optional<RunAs> runAs) {
    this.parent = parent;
    this.runAs = runAs;
  }

  /** Replaces the directory's content by {@code files} (name to value); returns the directory. */
  Path write(Map<String, byte[]> files) throws IOException {
    if (dir == null) {
      Files.createDirectories(parent);
      dir = Files.createTempDirectory(parent, "nixek-secrets-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      if (runAs.isPresent()) {
        runAs.get().own(dir);
      }
    }
    clear();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      Path f = dir.resolve(e.getKey());
      Files.write(f, e.getValue(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      if (runAs.isPresent()) {
        runAs.get().own(f);
      }
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
    }
    return dir;
  }

  /** Empties the directory (the next step gets only its own files). */
  void clear() throws IOException {
    if (dir == null || !Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    }
  }

  /** Removes the directory and what is in it. */
  @Override
  public void close() throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
