package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The local store's upload URLs: {@code <payload>.<HMAC-SHA256>} naming one file, its size, SHA-256 and expiry, so
 * the report API can accept an upload without a job token or any state of its own. The key is a file in the store's
 * directory (created 0600 by the first process that needs it), so every replica that shares the directory shares
 * the key, and a restart does not break URLs already handed out.
 */
final class UploadSigner {
  /** What a valid URL allows. */
  record Grant(ArtifactRef ref, long size, String sha256, Instant expiresAt) {}

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();
  private final byte[] key;
  private final Clock clock;

  UploadSigner(Path keyFile, Clock clock) throws IOException {
    this.key = loadOrCreate(keyFile);
    this.clock = clock;
  }

  String sign(ArtifactRef ref, long size, String sha256, Instant expiresAt) {
    String payload = String.join("\n", ref.job().namespace(), ref.job().jobName(), ref.job().jobUid(),
        Integer.toString(ref.step()), ref.name(), ref.path(), Long.toString(size), sha256,
        Long.toString(expiresAt.getEpochSecond()));
    byte[] p = payload.getBytes(StandardCharsets.UTF_8);
    return B64.encodeToString(p) + "." + B64.encodeToString(mac(p));
  }

  /** The grant of a token, or an {@link IllegalArgumentException} saying why not (forged, malformed, expired). */
  Grant verify(String token) {
    int dot = token == null ? -1 : token.indexOf('.');
    if (dot <= 0 || token.length() > 8192) {
      throw new IllegalArgumentException("malformed upload URL");
    }
    byte[] payload;
    byte[] sig;
    try {
      payload = B64D.decode(token.substring(0, dot));
      sig = B64D.decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("malformed upload URL");
    }
    if (!MessageDigest.isEqual(sig, mac(payload))) {
      throw new IllegalArgumentException("the upload URL's signature does not match");
    }
    String[] f = new String(payload, StandardCharsets.UTF_8).split("\n", -1);
    if (f.length != 9) {
      throw new IllegalArgumentException("malformed upload URL");
    }
    Instant expires = Instant.ofEpochSecond(Long.parseLong(f[8]));
    if (!clock.instant().isBefore(expires)) {
      throw new IllegalArgumentException("the upload URL expired at " + expires);
    }
    return new Grant(new ArtifactRef(new JobLogs(f[0], f[1], f[2]), Integer.parseInt(f[3]), f[4], f[5]),
        Long.parseLong(f[6]), f[7], expires);
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] loadOrCreate(Path file) throws IOException {
    if (Files.exists(file)) {
      return read(file);
    }
    LocalFiles.mkdirs(file.getParent());
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    Path tmp = file.resolveSibling(".upload-key-" + Long.toHexString(new SecureRandom().nextLong()));
    Files.write(tmp, k);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    try {
      // a link never replaces: two processes starting at once agree on the first key
      Files.createLink(file, tmp);
    } catch (FileAlreadyExistsException e) {
      // the other one won
    } finally {
      Files.deleteIfExists(tmp);
    }
    return read(file);
  }

  private static byte[] read(Path file) throws IOException {
    byte[] k = Files.readAllBytes(file);
    if (k.length != 32) {
      throw new IOException(file + " is not a 32-byte upload key");
    }
    return k;
  }
}
