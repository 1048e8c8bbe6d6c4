package dev.nixek.ci.builder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A token the builder reads from a file (a Secret volume, or a local run's private file): never an argument. */
final class TokenFile {
  private TokenFile() {}

  /** The file's token, stripped; a usage error naming {@code what} when it is unreadable, empty or not printable. */
  static String read(Path file, String what) throws BuilderException {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw BuilderException.usage("cannot read " + what + " " + file + ": " + e.getMessage());
    }
    if (token.isEmpty() || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw BuilderException.usage(what + " " + file + " holds no token");
    }
    return token;
  }
}
