package dev.nixek.ci.agent;

import dev.nixek.ci.protocol.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the job config comes from: a file (local provider) or EC2 user-data ({@link ImdsConfigSource}). */
interface ConfigSource {
  /** EC2 caps user-data at 16 KiB; a file far larger than that is not a config. */
  int MAX_CONFIG_BYTES = 1024 * 1024;

  AgentConfig load() throws UsageException, InterruptedException;

  static ConfigSource file(Path path) {
    return () -> {
      try {
        if (Files.size(path) > MAX_CONFIG_BYTES) {
          throw new UsageException("config file " + path + " is larger than " + MAX_CONFIG_BYTES + " bytes");
        }
        return ConfigParser.parse(Files.readAllBytes(path));
      } catch (IOException e) {
        throw new UsageException("cannot read config file " + path + ": " + e);
      }
    };
  }
}
