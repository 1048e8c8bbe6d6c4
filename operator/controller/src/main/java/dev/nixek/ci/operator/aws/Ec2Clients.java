package dev.nixek.ci.operator.aws;

import dev.nixek.ci.operator.config.Ec2Options;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;

/** Builds the operator's EC2 client from its options: url-connection HTTP client, the SDK's default credentials. */
public final class Ec2Clients {
  private Ec2Clients() {}

  public static Ec2Client create(Ec2Options options) {
    Ec2ClientBuilder b = Ec2Client.builder()
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofSeconds(30))
            .build())
        .credentialsProvider(DefaultCredentialsProvider.builder().build())
        // the SDK's standard retries (throttling, 5xx) are safe for RunInstances: it always carries a ClientToken
        .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(2)));
    if (!options.region().isEmpty()) {
      b.region(Region.of(options.region()));
    }
    options.endpoint().ifPresent(b::endpointOverride);
    return b.build();
  }
}
