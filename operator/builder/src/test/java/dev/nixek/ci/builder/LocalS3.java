package dev.nixek.ci.builder;

import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The shared s3proxy launcher ({@link S3ProxyServer}: a real S3 protocol server in this JVM) with what the builder's
 * tests add: fixed credentials they check are never printed, and the builder's command-line options for it.
 */
final class LocalS3 implements AutoCloseable {
  static final String ACCESS_KEY = "nixek-test-access";
  static final String SECRET_KEY = "nixek-test-secret-do-not-print";
  static final String REGION = "us-east-1";

  private final S3ProxyServer server;

  private LocalS3(S3ProxyServer.Builder builder) {
    server = builder.credentials(ACCESS_KEY, SECRET_KEY).start();
  }

  /** Objects in memory: fine for files of tens of MiB. */
  static LocalS3 inMemory() {
    return new LocalS3(S3ProxyServer.builder().transientStore());
  }

  /** Objects as files under {@code dir} (for images of 64 MiB and more). */
  static LocalS3 onDisk(Path dir) {
    return new LocalS3(S3ProxyServer.builder().filesystem(dir));
  }

  URI endpoint() {
    return server.endpoint();
  }

  S3Client client(ExecutionInterceptor... interceptors) {
    return server.newS3Client(b -> b.overrideConfiguration(c -> c.executionInterceptors(List.of(interceptors))));
  }

  void createBucket(String bucket) {
    server.createBucket(bucket);
  }

  /** Command-line options that point {@code nixek-builder} at this server. */
  List<String> cliOptions() {
    return List.of("--endpoint", endpoint().toString(), "--path-style", "--region", REGION);
  }

  @Override
  public void close() {
    server.close();
  }
}
