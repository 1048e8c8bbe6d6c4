package dev.nixek.ci.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.config.AwsOptions;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * The staging upload of a cache bundle against s3proxy: a grant's presigned URLs write parts of that one key; the
 * operator completes it only when S3's parts add up to what the builder reports (else refused and aborted), and an
 * upload another image of the pod completed already is {@link CacheStaging#GONE}.
 */
class CacheStagingIT {
  private static final String BUCKET = "caches";
  private S3ProxyServer s3;
  private AwsClients aws;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    s3 = S3ProxyServer.start();
    s3.createBucket(BUCKET);
    aws = new AwsClients(new AwsOptions("us-east-1", Optional.empty(), Optional.of(s3.endpoint()), true),
        StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())));
  }

  @AfterEach
  void stop() {
    aws.close();
    s3.close();
  }

  private int put(String url, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void aBundleIsCompletedOnlyWhenItsPartsAddUpToTheReportedSize() throws Exception {
    CacheStaging staging = new CacheStaging(aws, BUCKET);
    String key = "nixek-cache/it/team-a/staging/nixek-build-1.zip";
    CacheStaging.Grant grant = staging.open(key, Duration.ofMinutes(30));
    assertThat(grant.urls()).hasSize(CacheStaging.PARTS);
    assertThat(grant.json()).contains("\"key\":\"" + key + "\"");
    assertThat(put(grant.urls().get(0), "a bundle".getBytes())).isEqualTo(200);

    // a builder claiming more than S3 holds: refused, and the upload is gone
    assertThat(staging.complete(key, grant.uploadId(), 9)).get().asString().contains("holds 8 bytes");
    assertThat(s3.objectLookup().objectSize(BUCKET, key)).isEmpty();
    assertThat(staging.complete(key, grant.uploadId(), 8)).isPresent();

    CacheStaging.Grant again = staging.open(key, Duration.ofMinutes(30));
    assertThat(put(again.urls().get(0), "a bundle".getBytes())).isEqualTo(200);
    assertThat(staging.complete(key, again.uploadId(), 8)).isEmpty();
    assertThat(s3.objectLookup().objectSize(BUCKET, key)).hasValue(8L);
    // the sibling image of the same pod: nothing to do
    assertThat(staging.complete(key, again.uploadId(), 8)).contains(CacheStaging.GONE);
  }
}
