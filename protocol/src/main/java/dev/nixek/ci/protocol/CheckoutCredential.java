package dev.nixek.ci.protocol;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

/**
 * The forge credential a checkout step clones with. It travels as one of the job's secret values
 * ({@link JobSecrets}, {@code GET} {@link ReportPaths#secrets}) under the reserved ref {@value #SECRET_REF}, which no
 * Secret can have (a Secret's name has no colon). Used as HTTP basic {@code username}:{@code token}, which GitHub
 * (username {@value #DEFAULT_USERNAME}) and Gitea (any username, the token as password) both accept for git over
 * https. {@link #toString()} never shows the token. The same token, read from a file, is what a private repository's
 * evaluation pods fetch its flake with (the builder's {@code --forge-token-file}); both git configurations come from
 * {@link #gitConfigSection}.
 */
public record CheckoutCredential(String username, String token) {
  /** Where the repository's token is among a job's secret values. */
  public static final String SECRET_REF = ":checkout/token";
  /** The username GitHub expects with an access token; Gitea accepts it too. */
  public static final String DEFAULT_USERNAME = "x-access-token";

  /**
   * Whether a credential may be sent to {@code url}: only over https, or plain http to this machine (127.0.0.1,
   * localhost, ::1, as in tests) — a token must not cross a network in clear. Anything else (http to another host,
   * ssh, file, a URL that does not parse) is false.
   */
  public static boolean sentTo(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      return false;
    }
    String host = uri.getHost() == null ? "" : uri.getHost();
    return ("https".equals(uri.getScheme()) && !host.isEmpty()) || ("http".equals(uri.getScheme())
        && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1")));
  }

  /** The HTTP basic value: base64 of {@code username:token} ({@value #DEFAULT_USERNAME} when the username is empty). */
  public String basic() {
    String user = username == null || username.isEmpty() ? DEFAULT_USERNAME : username;
    return Base64.getEncoder().encodeToString((user + ":" + token).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The git configuration section that sends this credential to {@code url}'s origin only ({@code
   * <scheme>://<host>[:port]/}): {@code http.<origin>.extraHeader = Authorization: Basic <basic>}. A submodule or
   * flake input on another host never gets it.
   */
  public String gitConfigSection(String url) {
    URI uri = URI.create(url);
    String origin = uri.getScheme() + "://" + uri.getRawAuthority() + "/";
    return "[http \"" + origin + "\"]\n\textraHeader = Authorization: Basic " + basic() + "\n";
  }

  /**
   * Writes {@code content} as {@code gitconfig} (0600) into a fresh directory (0700) named {@code prefix}... under the
   * temporary directory, and returns the file: the git configuration only this process's user can read. The caller
   * deletes the directory when its git has run.
   */
  public static Path privateGitConfig(String prefix, String content) throws IOException {
    Path dir = Files.createTempDirectory(prefix,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path config = dir.resolve("gitconfig");
    try {
      Files.createFile(config, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(config, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      Files.deleteIfExists(config);
      Files.deleteIfExists(dir);
      throw e;
    }
    return config;
  }

  @Override
  public String toString() {
    return "CheckoutCredential[username=" + username + ", token=<redacted>]";
  }
}
