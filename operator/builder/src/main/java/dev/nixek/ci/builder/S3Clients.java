package dev.nixek.ci.builder;

import java.time.Duration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Builds the S3 client: the JDK's HttpURLConnection transport (no Netty or Apache in the jar), credentials
 * from the SDK default chain (IRSA's web-identity token in the pod, which needs the {@code sts} module).
 */
public final class S3Clients {
  /** A region is required for signing even against a custom endpoint; S3-compatible stores accept this one. */
  static final Region ENDPOINT_FALLBACK_REGION = Region.US_EAST_1;

  private S3Clients() {}

  public static S3Client create(CliOptions options) throws BuilderException {
    var builder = S3Client.builder()
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            // a part is written in full before S3 answers; a stalled connection must still end
            .socketTimeout(Duration.ofMinutes(2))
            .build())
        .region(region(options))
        .forcePathStyle(options.pathStyle());
    if (options.endpoint() != null) {
      builder.endpointOverride(options.endpoint());
    }
    return builder.build();
  }

  private static Region region(CliOptions options) throws BuilderException {
    if (options.region() != null) {
      return Region.of(options.region());
    }
    try {
      // with a custom endpoint only the environment may name a region: the full chain would ask EC2's
      // instance metadata service, an address outside the store's and useless for it
      return options.endpoint() != null
          ? new SystemSettingsRegionProvider().getRegion()
          : new DefaultAwsRegionProviderChain().getRegion();
    } catch (SdkClientException e) {
      if (options.endpoint() != null) {
        return ENDPOINT_FALLBACK_REGION;
      }
      throw BuilderException.usage("no AWS region: pass --region or set AWS_REGION");
    }
  }
}
