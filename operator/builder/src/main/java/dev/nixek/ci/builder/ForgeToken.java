package dev.nixek.ci.builder;

import dev.nixek.ci.protocol.CheckoutCredential;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A private repository's token for the evaluation's fetch of its flake ({@code --forge-token-file},
 * docs/repositories.md, "Private repositories: the evaluations' token"). Nix's git fetcher runs the git CLI for a
 * remote input, and git reads the configuration file this writes into a fresh 0700 directory: {@code
 * http."<scheme>://<host>[:port]/".extraHeader = Authorization: Basic base64(x-access-token:<token>)} — scoped to the
 * repository's origin, so a flake input or submodule elsewhere never gets it. Nix runs with {@code GIT_CONFIG_GLOBAL}
 * pointing at that file, {@code GIT_CONFIG_NOSYSTEM=1}, {@code GIT_TERMINAL_PROMPT=0} and no {@code GIT_TRACE*}
 * (which would print the header). The token and the header value go to the redactor; {@link #close} deletes the file
 * and its directory, which the builder does before it writes the termination message.
 */
final class ForgeToken implements AutoCloseable {
  static final String FLAG = "--forge-token-file";
  /**
   * git's variables that print requests (headers included), read other configuration or ask someone for a password:
   * never passed on (nor any other {@code GIT_TRACE*} or {@code GIT_CONFIG_*}).
   */
  private static final List<String> DROPPED = List.of("GIT_CURL_VERBOSE", "GIT_CONFIG", "GIT_ASKPASS",
      "SSH_ASKPASS");

  private final CheckoutCredential credential;
  private final Path dir;
  private final Path config;

  private ForgeToken(CheckoutCredential credential, Path dir, Path config) {
    this.credential = credential;
    this.dir = dir;
    this.config = config;
  }

  /**
   * Reads the token in {@code file} for fetching {@code flake} ({@code git+<url>?rev=...}) and writes the git
   * configuration; a flake that is not {@code git+https://} (or {@code git+http://} to this machine) is a usage
   * error: the token never crosses a network in clear, nor goes to a fetcher that is not git.
   */
  static ForgeToken open(Path file, String flake) throws BuilderException {
    if (flake == null || !flake.startsWith("git+")) {
      throw BuilderException.usage(FLAG + " is only for a git+https:// flake (the repository's own)");
    }
    String url = flake.substring("git+".length());
    int query = url.indexOf('?');
    if (query >= 0) {
      url = url.substring(0, query);
    }
    if (!CheckoutCredential.sentTo(url)) {
      throw BuilderException.usage("the repository's token (" + FLAG + ") is only sent over https (or http to this "
          + "machine), not to " + url.replaceAll("//[^/@]*@", "//"));
    }
    String token = TokenFile.read(file, "the repository's token file");
    CheckoutCredential credential = new CheckoutCredential(CheckoutCredential.DEFAULT_USERNAME, token);
    try {
      Path config = CheckoutCredential.privateGitConfig("nixek-forge-", credential.gitConfigSection(url));
      return new ForgeToken(credential, config.getParent(), config);
    } catch (IOException e) {
      throw BuilderException.build("cannot write the git configuration for the repository's token: "
          + e.getMessage());
    }
  }

  /** {@code redactor}, also masking the token and the header's value. */
  Redactor redacting(Redactor redactor) {
    return redactor.with(credential.token()).with(credential.basic());
  }

  /** {@code env} for nix (and the git it runs): git reads only this configuration, prompts never, traces nothing. */
  Map<String, String> environment(Map<String, String> env) {
    Map<String, String> out = new LinkedHashMap<>();
    env.forEach((name, value) -> {
      if (!DROPPED.contains(name) && !name.startsWith("GIT_TRACE") && !name.startsWith("GIT_CONFIG_")) {
        out.put(name, value);
      }
    });
    out.put("GIT_CONFIG_GLOBAL", config.toString());
    out.put("GIT_CONFIG_NOSYSTEM", "1");
    out.put("GIT_TERMINAL_PROMPT", "0");
    return out;
  }

  /** Deletes the configuration file and its directory (git writes nothing there); again is harmless. */
  @Override
  public void close() {
    try {
      Files.deleteIfExists(config);
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // the pod's filesystem goes with the pod; a local run's TMPDIR with its private directory
    }
  }
}
