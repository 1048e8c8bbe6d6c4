package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where step artifacts are kept (docs/artifacts.md), next to the logs in the same store: the agent uploads a file to a
 * short-lived URL this store makes for exactly its key ({@link #prepare}) — S3: a presigned PUT, so the machine holds
 * no AWS credentials; local: a URL of the report API signed with an HMAC — into a pending place; the report API then
 * checks it ({@link #commit}: size and SHA-256 of the stored bytes) and only then moves it where readers and lists see
 * it. So every listed file is one whose bytes were checked.
 *
 * <p>Implementations are thread-safe; every method may block.
 */
public interface ArtifactStore extends AutoCloseable {

  /** Where and how to PUT a file: {@code url} absolute (S3) or relative to the report API ({@code /v1/...}). */
  record UploadTarget(String url, Map<String, String> headers, java.time.Instant expiresAt) {}

  /** A stored, checked file. */
  record StoredArtifact(ArtifactRef ref, long size, String sha256) {}

  /** A stored file's bytes; close it. */
  record Download(long size, String sha256, InputStream in) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /** The upload was not what it was announced to be: it is deleted, never listed. */
  final class MismatchException extends IOException {
    public MismatchException(String message) {
      super(message);
    }
  }

  /** A URL that accepts the file {@code ref} of {@code size} bytes for {@code ttl}. */
  UploadTarget prepare(ArtifactRef ref, long size, String sha256, Duration ttl) throws IOException;

  /**
   * Checks the uploaded file (its size and the SHA-256 of its bytes as stored) and makes it readable; a mismatch (or
   * no upload) throws {@link MismatchException} and leaves nothing. Idempotent: a file committed before with these
   * bytes is fine.
   */
  StoredArtifact commit(ArtifactRef ref, long size, String sha256) throws IOException;

  /** The job's checked files. */
  List<StoredArtifact> list(JobLogs job) throws IOException;

  /** A checked file's bytes, or empty. */
  Optional<Download> open(ArtifactRef ref) throws IOException;

  /** Deletes every file of the job, checked or pending. */
  void delete(JobLogs job) throws IOException;

  /** Every job with stored files and when its newest one was written (for retention and orphan clean-up). */
  List<LogStore.StoredJob> jobs() throws IOException;

  @Override
  void close();
}
