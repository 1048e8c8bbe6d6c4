package dev.nixek.ci.builder;

import java.nio.file.Path;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;

/** The upload step shared by {@code build} and {@code upload}: one S3 client, one {@link MultipartUploader}. */
final class S3Upload {
  private S3Upload() {}

  static UploadResult run(CliOptions options, Path file, String key, Map<String, String> metadata)
      throws BuilderException, InterruptedException {
    S3Client s3;
    try {
      s3 = S3Clients.create(options);
    } catch (SdkException | IllegalArgumentException e) {
      throw BuilderException.upload("cannot create the S3 client: " + e.getMessage(), e);
    }
    try (s3) {
      return new MultipartUploader(s3, options.partSizeBytes()).upload(file, options.bucket(), key, metadata);
    }
  }
}
