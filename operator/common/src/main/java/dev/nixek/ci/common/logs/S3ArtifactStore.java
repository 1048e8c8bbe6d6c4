package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PresignedPutObjectRequest;

/**
 * Artifacts in the log bucket under their own prefix: {@code <prefix><namespace>/<job>/<uid>/pending/<step>/<name>/
 * <path>} for the agent's presigned PUT, {@code .../files/...} once the report API read the object back and its size
 * and SHA-256 matched (a server-side CopyObject, with the SHA-256 in {@code x-amz-meta-sha256}; the pending object is
 * deleted). A file is one PUT, so at most 5 GiB ({@link ArtifactOptions#MAX_FILE_BYTES}); a presigned URL signs the
 * key, the method and the Content-Length, and expires after the given time.
 */
public final class S3ArtifactStore implements ArtifactStore {
  static final String SHA_META = "sha256";

  private final S3Client s3;
  private final S3Presigner presigner;
  private final String bucket;
  private final String prefix;

  public S3ArtifactStore(S3Client s3, S3Presigner presigner, String bucket, String prefix) {
    this.s3 = s3;
    this.presigner = presigner;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  @Override
  public UploadTarget prepare(ArtifactRef ref, long size, String sha256, Duration ttl) throws IOException {
    try {
      PresignedPutObjectRequest p = presigner.presignPutObject(b -> b.signatureDuration(ttl)
          .putObjectRequest(r -> r.bucket(bucket).key(key(ref, "pending")).contentLength(size)));
      Map<String, String> headers = new LinkedHashMap<>();
      // Host and Content-Length are the HTTP client's to send (and Java's refuses to be told them)
      p.signedHeaders().forEach((name, values) -> {
        if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
          headers.put(name, String.join(",", values));
        }
      });
      return new UploadTarget(p.url().toString(), headers, p.expiration());
    } catch (SdkException e) {
      throw new IOException("cannot presign an upload: " + e.getMessage(), e);
    }
  }

  @Override
  public StoredArtifact commit(ArtifactRef ref, long size, String sha256) throws IOException {
    String pending = key(ref, "pending");
    String file = key(ref, "files");
    try {
      HeadObjectResponse head;
      try {
        head = s3.headObject(b -> b.bucket(bucket).key(pending));
      } catch (NoSuchKeyException e) {
        return committedBefore(ref, file, size, sha256);
      } catch (S3Exception e) {
        if (e.statusCode() == 404) {
          return committedBefore(ref, file, size, sha256);
        }
        throw e;
      }
      try {
        if (head.contentLength() != size) {
          throw new MismatchException("stored " + head.contentLength() + " bytes, announced " + size);
        }
        String actual;
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(pending))) {
          actual = LocalArtifactStore.hash(in);
        }
        LocalArtifactStore.check(size, sha256, size, actual);
      } catch (MismatchException e) {
        s3.deleteObject(b -> b.bucket(bucket).key(pending));
        throw e;
      }
      s3.copyObject(b -> b.sourceBucket(bucket).sourceKey(pending).destinationBucket(bucket).destinationKey(file)
          .metadataDirective(MetadataDirective.REPLACE).metadata(Map.of(SHA_META, sha256.toLowerCase())));
      s3.deleteObject(b -> b.bucket(bucket).key(pending));
      return new StoredArtifact(ref, size, sha256);
    } catch (SdkException e) {
      throw new IOException("artifact store: " + e.getMessage(), e);
    }
  }

  private StoredArtifact committedBefore(ArtifactRef ref, String file, long size, String sha256) throws IOException {
    try {
      HeadObjectResponse h = s3.headObject(b -> b.bucket(bucket).key(file));
      String stored = h.metadata().getOrDefault(SHA_META, "");
      LocalArtifactStore.check(size, sha256, h.contentLength(), stored);
      return new StoredArtifact(ref, size, sha256);
    } catch (NoSuchKeyException e) {
      throw new MismatchException("nothing was uploaded for " + ref.name() + "/" + ref.path());
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw new MismatchException("nothing was uploaded for " + ref.name() + "/" + ref.path());
      }
      throw e;
    }
  }

  @Override
  public List<StoredArtifact> list(JobLogs job) throws IOException {
    String files = prefix + LogNames.jobPath(job) + "/files/";
    List<StoredArtifact> out = new ArrayList<>();
    try {
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(files)).contents()) {
        ArtifactRef ref = ArtifactRef.parse(job, o.key().substring(files.length()));
        if (ref != null) {
          out.add(new StoredArtifact(ref, o.size(), null));
        }
      }
    } catch (SdkException e) {
      throw new IOException("artifact store: " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public Optional<Download> open(ArtifactRef ref) throws IOException {
    try {
      ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key(ref, "files")));
      GetObjectResponse r = in.response();
      return Optional.of(new Download(r.contentLength(), r.metadata().get(SHA_META), in));
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw new IOException("artifact store: " + e.getMessage(), e);
    } catch (SdkException e) {
      throw new IOException("artifact store: " + e.getMessage(), e);
    }
  }

  @Override
  public void delete(JobLogs job) throws IOException {
    String dir = prefix + LogNames.jobPath(job) + "/";
    try {
      List<ObjectIdentifier> batch = new ArrayList<>();
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(dir)).contents()) {
        batch.add(ObjectIdentifier.builder().key(o.key()).build());
        if (batch.size() == 1000) {
          deleteBatch(batch);
        }
      }
      deleteBatch(batch);
    } catch (SdkException e) {
      throw new IOException("artifact store: " + e.getMessage(), e);
    }
  }

  private void deleteBatch(List<ObjectIdentifier> batch) {
    if (batch.isEmpty()) {
      return;
    }
    List<ObjectIdentifier> copy = List.copyOf(batch);
    batch.clear();
    s3.deleteObjects(b -> b.bucket(bucket).delete(Delete.builder().objects(copy).quiet(true).build()));
  }

  @Override
  public List<LogStore.StoredJob> jobs() throws IOException {
    Map<JobLogs, Instant> newest = new HashMap<>();
    try {
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
        String[] parts = o.key().substring(prefix.length()).split("/", 4);
        if (parts.length < 4) {
          continue;
        }
        LogNames.parseJob(parts[0], parts[1], parts[2])
            .ifPresent(j -> newest.merge(j, o.lastModified(), (a, b) -> a.isAfter(b) ? a : b));
      }
    } catch (SdkException e) {
      throw new IOException("artifact store: " + e.getMessage(), e);
    }
    List<LogStore.StoredJob> out = new ArrayList<>();
    newest.forEach((j, t) -> out.add(new LogStore.StoredJob(j, t)));
    return out;
  }

  @Override
  public void close() {
    presigner.close();
  }

  private String key(ArtifactRef ref, String kind) {
    return prefix + ref.jobPath() + "/" + kind + "/" + ref.relative();
  }
}
