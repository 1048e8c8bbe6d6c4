package dev.nixek.ci.common.logs;

import dev.nixek.ci.common.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** Opens the {@link LogStore} that {@link LogStoreOptions} name; the report API and the operator both start here. */
public final class LogStores {
  private LogStores() {}

  /** The configured store; S3 credentials from the SDK's default chain (IRSA / pod identity in a cluster). */
  public static LogStore open(LogStoreOptions options) {
    return open(options, DefaultCredentialsProvider.builder().build());
  }

  /**
   * The configured store with S3 {@code credentials} (tests). Nothing is contacted yet: a bucket that is missing or
   * not allowed shows on the first write, with the S3 error.
   */
  public static LogStore open(LogStoreOptions options, AwsCredentialsProvider credentials) {
    options.requireComplete();
    return switch (options.kind()) {
      case LOCAL -> {
        try {
          yield new LocalLogStore(options.dir());
        } catch (IOException e) {
          throw new UncheckedIOException(LogStoreOptions.DIR.key() + "=" + options.dir() + ": cannot create the log "
              + "directory: " + e.getMessage(), e);
        }
      }
      case S3 -> new S3LogStore(s3Client(options, credentials), options.bucket(), options.prefix(), true);
    };
  }

  private static S3Client s3Client(LogStoreOptions options, AwsCredentialsProvider credentials) {
    var b = S3Client.builder()
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(60))
            .build())
        .credentialsProvider(credentials)
        .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)));
    if (!options.region().isEmpty()) {
      b.region(Region.of(options.region()));
    } else if (options.endpoint().isPresent()) {
      b.region(Region.US_EAST_1); // S3-compatible stores ignore it, but SigV4 needs one
    }
    options.endpoint().ifPresent(e -> b.endpointOverride(e).forcePathStyle(true));
    try {
      return b.build();
    } catch (SdkClientException e) {
      throw new ConfigException(LogStoreOptions.S3_REGION.key() + ": no region for the log bucket (set it, or "
          + "AWS_REGION): " + e.getMessage(), e);
    }
  }
}
