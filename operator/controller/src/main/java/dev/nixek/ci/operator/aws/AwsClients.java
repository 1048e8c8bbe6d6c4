package dev.nixek.ci.operator.aws;

import dev.nixek.ci.operator.config.AwsOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The operator's AWS clients, one EC2 and one S3 client per region, made on first use (an operator that never
 * touches AWS, like the local demo, needs no region or credentials). The JDK's url-connection transport; the SDK's
 * standard retries (throttling, 5xx) under each call; credentials from the SDK's default chain in production.
 */
public final class AwsClients implements AutoCloseable {
  private final AwsOptions options;
  private final AwsCredentialsProvider credentials;
  private final SdkHttpClient http;
  private final List<ExecutionInterceptor> interceptors;
  private final Map<String, Ec2Client> ec2 = new ConcurrentHashMap<>();
  private final Map<String, S3Client> s3 = new ConcurrentHashMap<>();
  private final Map<String, S3Presigner> presigners = new ConcurrentHashMap<>();

  /** Production: the SDK's default credentials chain (IRSA / pod identity, environment, profile). */
  public AwsClients(AwsOptions options) {
    this(options, DefaultCredentialsProvider.builder().build());
  }

  public AwsClients(AwsOptions options, AwsCredentialsProvider credentials) {
    this(options, credentials, null);
  }

  /** With {@code interceptor} (the operator's AWS call metrics; null for none) on every client. */
  public AwsClients(AwsOptions options, AwsCredentialsProvider credentials, ExecutionInterceptor interceptor) {
    this.interceptors = interceptor == null ? List.of() : List.of(interceptor);
    this.options = options;
    this.credentials = credentials;
    this.http = UrlConnectionHttpClient.builder()
        .connectionTimeout(Duration.ofSeconds(10))
        .socketTimeout(Duration.ofSeconds(60))
        .build();
  }

  /**
   * The region an image without its own goes to: the configured one, else the SDK's default chain.
   *
   * @throws AwsUnavailableException when neither names a region
   */
  public String defaultRegion() {
    if (!options.region().isEmpty()) {
      return options.region();
    }
    try {
      return new DefaultAwsRegionProviderChain().getRegion().id();
    } catch (SdkClientException e) {
      throw new AwsUnavailableException("no AWS region: set NIXEK_AWS_REGION (or AWS_REGION)", e);
    }
  }

  public Ec2Client ec2(String region) {
    return ec2.computeIfAbsent(region, r -> {
      var b = Ec2Client.builder().httpClient(http).credentialsProvider(credentials).region(Region.of(r))
          .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)).executionInterceptors(interceptors));
      options.ec2Endpoint().ifPresent(b::endpointOverride);
      return b.build();
    });
  }

  public S3Client s3(String region) {
    return s3.computeIfAbsent(region, r -> {
      var b = S3Client.builder().httpClient(http).credentialsProvider(credentials).region(Region.of(r))
          .forcePathStyle(options.s3PathStyle())
          .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)).executionInterceptors(interceptors));
      options.s3Endpoint().ifPresent(b::endpointOverride);
      return b.build();
    });
  }

  /**
   * Presigns S3 requests with the operator's credentials, for a builder pod that holds none (docs/images.md#the-upload):
   * the same endpoint and addressing as {@link #s3}.
   */
  public S3Presigner presigner(String region) {
    return presigners.computeIfAbsent(region, r -> {
      var b = S3Presigner.builder().credentialsProvider(credentials).region(Region.of(r))
          .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(options.s3PathStyle()).build());
      options.s3Endpoint().ifPresent(b::endpointOverride);
      return b.build();
    });
  }

  public AwsOptions options() {
    return options;
  }

  @Override
  public void close() {
    ec2.values().forEach(Ec2Client::close);
    s3.values().forEach(S3Client::close);
    presigners.values().forEach(S3Presigner::close);
    http.close();
  }
}
