package dev.nixek.ci.common.logs;

import dev.nixek.ci.common.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Opens the {@link ArtifactStore} next to the log store that {@link LogStoreOptions} name (docs/artifacts.md): the
 * same bucket under {@link ArtifactOptions#S3_PREFIX}, or {@value ArtifactOptions#LOCAL_DIR_NAME} in the local log
 * directory.
 */
public final class ArtifactStores {
  private ArtifactStores() {}

  /** The store, S3 credentials from the SDK's default chain. */
  public static ArtifactStore open(LogStoreOptions logs, ArtifactOptions artifacts) {
    return open(logs, artifacts, DefaultCredentialsProvider.builder().build());
  }

  /** The store with S3 {@code credentials} (tests). */
  public static ArtifactStore open(LogStoreOptions logs, ArtifactOptions artifacts,
      AwsCredentialsProvider credentials) {
    logs.requireComplete();
    return switch (logs.kind()) {
      case LOCAL -> {
        try {
          yield new LocalArtifactStore(logs.dir().resolve(ArtifactOptions.LOCAL_DIR_NAME), Clock.systemUTC());
        } catch (IOException e) {
          throw new UncheckedIOException(LogStoreOptions.DIR.key() + "=" + logs.dir() + ": cannot create the "
              + "artifact directory: " + e.getMessage(), e);
        }
      }
      case S3 -> new S3ArtifactStore(s3Client(logs, credentials), presigner(logs, credentials), logs.bucket(),
          artifacts.s3Prefix());
    };
  }

  private static Region region(LogStoreOptions o) {
    if (!o.region().isEmpty()) {
      return Region.of(o.region());
    }
    return o.endpoint().isPresent() ? Region.US_EAST_1 : null;
  }

  private static S3Client s3Client(LogStoreOptions options, AwsCredentialsProvider credentials) {
    var b = S3Client.builder()
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(120))
            .build())
        .credentialsProvider(credentials)
        // a read-back of a 5 GiB file and a server-side copy of it take a while
        .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(30)));
    Region r = region(options);
    if (r != null) {
      b.region(r);
    }
    options.endpoint().ifPresent(e -> b.endpointOverride(e).forcePathStyle(true));
    try {
      return b.build();
    } catch (RuntimeException e) {
      throw new ConfigException(LogStoreOptions.S3_REGION.key() + ": no region for the log bucket (set it, or "
          + "AWS_REGION): " + e.getMessage(), e);
    }
  }

  private static S3Presigner presigner(LogStoreOptions options, AwsCredentialsProvider credentials) {
    var b = S3Presigner.builder().credentialsProvider(credentials);
    Region r = region(options);
    if (r != null) {
      b.region(r);
    }
    options.endpoint().ifPresent(e -> b.endpointOverride(e)
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()));
    return b.build();
  }
}
