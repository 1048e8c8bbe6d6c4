package dev.nixek.ci.testing.aws;

import java.net.URI;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.Ec2ClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/** Real AWS SDK v2 clients (url-connection HTTP client, static credentials) pointed at a local endpoint. */
public final class AwsTestClients {

    public static final String DEFAULT_ACCESS_KEY = "AKIAFAKEAWSTESTKEY01";
    public static final String DEFAULT_SECRET_KEY = "fake-secret-key-for-local-tests";

    private AwsTestClients() {
    }

    /** An {@link Ec2Client} for {@code endpoint} in us-east-1 with the default test credentials. */
    public static Ec2Client ec2(URI endpoint) {
        return ec2(endpoint, DEFAULT_ACCESS_KEY, b -> { });
    }

    /** An {@link Ec2Client}; {@code customizer} may e.g. set {@code overrideConfiguration} (retries). */
    public static Ec2Client ec2(URI endpoint, String accessKeyId, Consumer<Ec2ClientBuilder> customizer) {
        Ec2ClientBuilder b = Ec2Client.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(endpoint)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(accessKeyId, DEFAULT_SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create());
        customizer.accept(b);
        return b.build();
    }

    /** A path-style {@link S3Client} for {@code endpoint} in us-east-1. */
    public static S3Client s3(URI endpoint, String accessKeyId, String secretKey, Consumer<S3ClientBuilder> customizer) {
        S3ClientBuilder b = S3Client.builder()
                .region(Region.US_EAST_1)
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretKey)))
                .httpClient(UrlConnectionHttpClient.create());
        customizer.accept(b);
        return b.build();
    }
}
