package dev.nixek.ci.common.logs;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Writes one object of the S3 log store: a single PUT when it stays under a part, else a multipart upload of whole
 * parts (every part but the last at least 5 MiB, as S3 requires), aborted when not finished.
 */
final class S3PartWriter {
  private final S3Client s3;
  private final String bucket;
  private final int partSize;
  private final String key;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private final List<CompletedPart> parts = new ArrayList<>();
  private String uploadId;
  private boolean finished;

  S3PartWriter(S3Client s3, String bucket, String key, int partSize) {
    this.s3 = s3;
    this.bucket = bucket;
    this.key = key;
    this.partSize = partSize;
  }

  void write(byte[] data) {
    buffer.writeBytes(data);
    if (buffer.size() >= partSize) {
      if (uploadId == null) {
        uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)
            .contentType("application/octet-stream")).uploadId();
      }
      uploadPart();
    }
  }

  private void uploadPart() {
    int number = parts.size() + 1;
    String etag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(number),
        RequestBody.fromBytes(buffer.toByteArray())).eTag();
    parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
    buffer.reset();
  }

  void finish(Map<String, String> metadata) {
    if (uploadId == null) {
      s3.putObject(b -> b.bucket(bucket).key(key).contentType("application/octet-stream").metadata(metadata),
          RequestBody.fromBytes(buffer.toByteArray()));
    } else {
      if (buffer.size() > 0) {
        uploadPart();
      }
      s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
          .multipartUpload(m -> m.parts(parts)));
    }
    finished = true;
  }

  void abortIfUnfinished() {
    if (uploadId != null && !finished) {
      try {
        s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
      } catch (SdkException e) {
        // the bucket's abort-incomplete-uploads rule, or delete(), removes it later (docs/logs.md)
      }
    }
  }
}
