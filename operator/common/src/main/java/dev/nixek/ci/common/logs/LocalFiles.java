package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/** The file operations of {@link LocalLogStore}: durable writes, 0700 directories, walks that tolerate deletion. */
final class LocalFiles {
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  static final FileAttribute<Set<PosixFilePermission>> FILE_ATTR =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  private LocalFiles() {}

  static byte[] readFully(FileChannel in, long position, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining()) {
      if (in.read(buf, position + buf.position()) < 0) {
        throw new IOException("unexpected end of file at " + (position + buf.position()));
      }
    }
    return buf.array();
  }

  static long copy(FileChannel in, long position, long available, long maxBytes, OutputStream out)
      throws IOException {
    long want = Math.min(available, maxBytes);
    if (want <= 0) {
      return 0;
    }
    long done = 0;
    var sink = Channels.newChannel(out);
    while (done < want) {
      long n = in.transferTo(position + done, want - done, sink);
      if (n <= 0) {
        throw new IOException("file ended early");
      }
      done += n;
    }
    return done;
  }

  static void writeDurably(Path file, ByteBuffer... parts) throws IOException {
    try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        FILE_ATTR)) {
      for (ByteBuffer b : parts) {
        writeAll(ch, b);
      }
      ch.force(true);
    }
  }

  static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Creates missing directories (0700) and forces each new one's parent, so the new entry survives a crash. */
  static void mkdirs(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      mkdirs(parent);
    }
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
      Files.setPosixFilePermissions(dir, DIR_MODE); // the umask may have taken bits away, never added: be exact
      if (parent != null) {
        forceDir(parent);
      }
    } catch (FileAlreadyExistsException e) {
      // made by another writer at the same time
    }
  }

  static void forceDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  static List<Path> children(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  static Optional<Instant> newest(Path dir) throws IOException {
    Instant[] max = {null};
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        Instant t = attrs.lastModifiedTime().toInstant();
        if (attrs.isRegularFile() && (max[0] == null || t.isAfter(max[0]))) {
          max[0] = t;
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE; // removed while we walked
        }
        throw e;
      }
    });
    return Optional.ofNullable(max[0]);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null && !(e instanceof NoSuchFileException)) {
          throw e;
        }
        try {
          Files.deleteIfExists(d);
        } catch (DirectoryNotEmptyException raced) {
          // a writer added a file meanwhile (a late chunk): left for the next delete
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
