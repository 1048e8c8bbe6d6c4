package dev.nixek.ci.operator.aws;

import java.time.Instant;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The S3 side of a machine image: is an upload running, delete an image, list this cluster's images. */
public final class ImageStore {
  private final S3Client s3;

  public ImageStore(S3Client s3) {
    this.s3 = s3;
  }

  /** An object in the image store. */
  public record StoredObject(String bucket, String key, Instant lastModified, long size) {}

  /** Where an object is, from an {@code s3://bucket/key} URI. */
  public record Location(String bucket, String key) {
    public static Location parse(String s3Uri) {
      if (s3Uri == null || !s3Uri.startsWith("s3://") || s3Uri.indexOf('/', 5) < 0) {
        throw new IllegalArgumentException("not an s3://bucket/key URI: " + s3Uri);
      }
      int slash = s3Uri.indexOf('/', 5);
      return new Location(s3Uri.substring(5, slash), s3Uri.substring(slash + 1));
    }
  }

  /** A multipart upload that was started and neither completed nor aborted. */
  public record Upload(String bucket, String key, String uploadId, java.time.Instant initiated) {}

  /** The unfinished multipart uploads under {@code prefix}. */
  public List<Upload> uploads(String bucket, String prefix) {
    return s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix)).uploads().stream()
        .map(u -> new Upload(bucket, u.key(), u.uploadId(), u.initiated())).toList();
  }

  /** Aborts the upload (its parts are deleted); one that is gone already is fine. */
  public void abort(Upload upload) {
    try {
      s3.abortMultipartUpload(b -> b.bucket(upload.bucket()).key(upload.key()).uploadId(upload.uploadId()));
    } catch (software.amazon.awssdk.services.s3.model.NoSuchUploadException e) {
      // completed or aborted meanwhile
    }
  }

  /** Deletes the object; deleting a missing object is fine (S3 answers 204 either way). */
  public void delete(Location location) {
    try {
      s3.deleteObject(b -> b.bucket(location.bucket()).key(location.key()));
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw e;
      }
    }
  }

  public List<StoredObject> list(String bucket, String prefix) {
    return s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
        .map(o -> new StoredObject(bucket, o.key(), o.lastModified(), o.size() == null ? 0 : o.size())).toList();
  }
}
