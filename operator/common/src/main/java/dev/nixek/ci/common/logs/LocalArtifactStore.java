package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Artifacts in a local directory (the embedded default): {@code <dir>/<namespace>/<job>/<uid>/pending/...} while
 * uploaded, {@code .../files/<step>/<name>/<path>} once checked. The agent PUTs to the report API's
 * {@code /v1/artifact-uploads/<signed token>} ({@link UploadSigner}), which streams the body here ({@link #receive}).
 * Directories 0700, files written to a temporary name, forced to disk and renamed into place.
 */
public final class LocalArtifactStore implements ArtifactStore {
  /** The report API's path for the local store's uploads; the token follows. */
  public static final String UPLOAD_PATH = "/v1/artifact-uploads/";

  private final Path root;
  private final UploadSigner signer;
  private final Clock clock;

  public LocalArtifactStore(Path root, Clock clock) throws IOException {
    LocalFiles.mkdirs(root);
    this.root = root.toAbsolutePath().normalize();
    this.clock = clock;
    this.signer = new UploadSigner(this.root.resolve(".upload-key"), clock);
  }

  @Override
  public UploadTarget prepare(ArtifactRef ref, long size, String sha256, Duration ttl) {
    Instant expires = clock.instant().plus(ttl);
    return new UploadTarget(UPLOAD_PATH + signer.sign(ref, size, sha256, expires), Map.of(), expires);
  }

  /**
   * Stores the body of an upload to a signed URL: exactly the granted size (more or less is refused), its SHA-256
   * the granted one; then the file is pending until {@link #commit}. Throws {@link IllegalArgumentException} for a
   * token that is forged, malformed or expired, {@link MismatchException} for other bytes.
   */
  public void receive(String token, InputStream body) throws IOException {
    UploadSigner.Grant g = signer.verify(token);
    Path pending = place(g.ref(), "pending");
    LocalFiles.mkdirs(pending.getParent());
    Path tmp = pending.resolveSibling(".tmp-" + Long.toHexString(new SecureRandom().nextLong()));
    try {
      MessageDigest sha = sha256();
      long n = 0;
      try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        byte[] buf = new byte[256 * 1024];
        for (int r; (r = body.read(buf)) > 0; ) {
          n += r;
          if (n > g.size()) {
            throw new MismatchException("the upload is longer than the announced " + g.size() + " bytes");
          }
          sha.update(buf, 0, r);
          out.write(buf, 0, r);
        }
      }
      check(g.size(), g.sha256(), n, HexFormat.of().formatHex(sha.digest()));
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, pending, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** An upload in progress: the body goes to {@link #file()}, then {@link #finish} or {@link #abandon}. */
  public static final class Upload {
    private final UploadSigner.Grant grant;
    private final Path tmp;

    private Upload(UploadSigner.Grant grant, Path tmp) {
      this.grant = grant;
      this.tmp = tmp;
    }

    /** The bytes the URL allows, exactly. */
    public long size() {
      return grant.size();
    }

    /** Where to write the body (a new temporary file). */
    public Path file() {
      return tmp;
    }
  }

  /**
   * Checks a signed upload URL's token (forged, malformed or expired: {@link IllegalArgumentException} saying which)
   * and names the temporary file its body is written to, for a caller that writes it asynchronously.
   */
  public Upload begin(String token) throws IOException {
    UploadSigner.Grant g = signer.verify(token);
    Path pending = place(g.ref(), "pending");
    LocalFiles.mkdirs(pending.getParent());
    return new Upload(g, pending.resolveSibling(".tmp-" + Long.toHexString(new SecureRandom().nextLong())));
  }

  /** Checks the written body (size, SHA-256), forces it to disk and makes it the pending file; else deletes it. */
  public void finish(Upload u) throws IOException {
    try {
      check(u.grant.size(), u.grant.sha256(), Files.size(u.tmp), hash(u.tmp));
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(u.tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(u.tmp, place(u.grant.ref(), "pending"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(u.tmp);
    }
  }

  /** Deletes an upload's temporary file. */
  public void abandon(Upload u) {
    try {
      Files.deleteIfExists(u.tmp);
    } catch (IOException e) {
      // the job's deletion removes it
    }
  }

  @Override
  public StoredArtifact commit(ArtifactRef ref, long size, String sha256) throws IOException {
    Path pending = place(ref, "pending");
    Path file = place(ref, "files");
    if (!Files.exists(pending) && Files.exists(file)) {
      // committed before: a replay
      check(size, sha256, Files.size(file), hash(file));
      return new StoredArtifact(ref, size, sha256);
    }
    if (!Files.exists(pending)) {
      throw new MismatchException("nothing was uploaded for " + ref.name() + "/" + ref.path());
    }
    try {
      check(size, sha256, Files.size(pending), hash(pending));
    } catch (MismatchException e) {
      Files.deleteIfExists(pending);
      throw e;
    }
    LocalFiles.mkdirs(file.getParent());
    Files.move(pending, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    LocalFiles.forceDir(file.getParent());
    return new StoredArtifact(ref, size, sha256);
  }

  @Override
  public List<StoredArtifact> list(JobLogs job) throws IOException {
    Path files = root.resolve(LogNames.jobPath(job)).resolve("files");
    List<StoredArtifact> out = new ArrayList<>();
    if (!Files.isDirectory(files)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(files)) {
      for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
        ArtifactRef ref = ArtifactRef.parse(job, files.relativize(p).toString());
        if (ref != null && !p.getFileName().toString().startsWith(".tmp-")) {
          out.add(new StoredArtifact(ref, Files.size(p), null));
        }
      }
    } catch (NoSuchFileException e) {
      // deleted while listed
    }
    return out;
  }

  @Override
  public Optional<Download> open(ArtifactRef ref) throws IOException {
    Path file = place(ref, "files");
    try {
      InputStream in = Files.newInputStream(file);
      return Optional.of(new Download(Files.size(file), null, in));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void delete(JobLogs job) throws IOException {
    Path dir = root.resolve(LogNames.jobPath(job));
    LocalFiles.deleteTree(dir);
    for (Path p = dir.getParent(); p != null && !p.equals(root) && p.startsWith(root); p = p.getParent()) {
      try {
        Files.deleteIfExists(p);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        break;
      }
    }
  }

  @Override
  public List<LogStore.StoredJob> jobs() throws IOException {
    List<LogStore.StoredJob> out = new ArrayList<>();
    for (Path ns : LocalFiles.children(root)) {
      for (Path name : LocalFiles.children(ns)) {
        for (Path uid : LocalFiles.children(name)) {
          Optional<JobLogs> job = LogNames.parseJob(ns.getFileName().toString(), name.getFileName().toString(),
              uid.getFileName().toString());
          if (job.isPresent()) {
            LocalFiles.newest(uid).ifPresent(t -> out.add(new LogStore.StoredJob(job.get(), t)));
          }
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    // nothing held between calls
  }

  private Path place(ArtifactRef ref, String kind) {
    Path p = root.resolve(ref.jobPath()).resolve(kind).resolve(ref.relative()).normalize();
    if (!p.startsWith(root.resolve(ref.jobPath()))) {
      throw new IllegalArgumentException("artifact path escapes the store: " + ref);
    }
    return p;
  }

  static void check(long size, String sha256, long actualSize, String actualSha) throws MismatchException {
    if (actualSize != size) {
      throw new MismatchException("stored " + actualSize + " bytes, announced " + size);
    }
    if (!actualSha.equalsIgnoreCase(sha256)) {
      throw new MismatchException("the stored bytes' SHA-256 is " + actualSha + ", announced " + sha256);
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hash(InputStream in) throws IOException {
    MessageDigest sha = sha256();
    try (DigestInputStream d = new DigestInputStream(in, sha)) {
      d.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static String hash(Path p) throws IOException {
    return hash(Files.newInputStream(p));
  }
}
