package dev.nixek.ci.builder;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * s3proxy in this JVM on 127.0.0.1 and a free port: a real S3 protocol server (SigV4, multipart, HEAD,
 * metadata) for the tests. Small on purpose; a shared launcher for all modules comes later.
 */
final class LocalS3 implements AutoCloseable {
  static final String ACCESS_KEY = "nixek-test-access";
  static final String SECRET_KEY = "nixek-test-secret-do-not-print";
  static final String REGION = "us-east-1";

  private final S3Proxy proxy;
  private final URI endpoint;

  private LocalS3(BlobStore store) throws Exception {
    proxy = S3Proxy.builder()
        .blobStore(store)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .stopTimeout(0)
        .build();
    proxy.start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
      }
      Thread.sleep(10);
    }
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  /** Objects in memory: fine for files of tens of MiB. */
  static LocalS3 inMemory() throws Exception {
    return new LocalS3(new TransientNio2BlobStore());
  }

  /** Objects as files under {@code dir} (for images of 64 MiB and more). */
  static LocalS3 onDisk(Path dir) throws Exception {
    return new LocalS3(new FilesystemNio2BlobStore(dir.toString()));
  }

  URI endpoint() {
    return endpoint;
  }

  S3Client client(ExecutionInterceptor... interceptors) {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.of(REGION))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(c -> c.executionInterceptors(List.of(interceptors)))
        .build();
  }

  void createBucket(String bucket) {
    try (S3Client s3 = client()) {
      s3.createBucket(b -> b.bucket(bucket));
    }
  }

  /** Command-line options that point {@code nixek-builder} at this server. */
  List<String> cliOptions() {
    return List.of("--endpoint", endpoint.toString(), "--path-style", "--region", REGION);
  }

  @Override
  public void close() {
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IllegalStateException("stopping s3proxy", e);
    }
  }
}
