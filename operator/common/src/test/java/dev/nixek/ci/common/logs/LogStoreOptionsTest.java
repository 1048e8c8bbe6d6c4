package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.common.config.ConfigException;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

class LogStoreOptionsTest {
  @TempDir
  Path dir;

  @Test
  void defaultsAreALocalDirectory() {
    LogStoreOptions o = LogStoreOptions.fromEnv(Map.of());
    assertThat(o).isEqualTo(new LogStoreOptions(LogStoreOptions.Kind.LOCAL, Path.of("/var/lib/nixek/logs"), "",
        "logs/", "", Optional.empty()));
    assertThat(LogStoreOptions.OPTIONS).extracting(c -> c.key()).containsExactly("NIXEK_LOG_STORE", "NIXEK_LOG_DIR",
        "NIXEK_LOG_S3_BUCKET", "NIXEK_LOG_S3_PREFIX", "NIXEK_LOG_S3_REGION", "NIXEK_LOG_S3_ENDPOINT");
  }

  @Test
  void s3WithoutABucketFailsNamingTheOption() {
    LogStoreOptions noBucket = LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "s3"));
    assertThatThrownBy(noBucket::requireComplete)
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_BUCKET is required");
    // a process opens its store at start-up: that is where it fails
    assertThatThrownBy(() -> LogStores.open(noBucket))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_BUCKET is required");
  }

  @Test
  void badValuesFailNamingTheOption() {
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "gcs")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_STORE='gcs'");
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "A_B")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_BUCKET");
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_S3_PREFIX", "/abs/")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_PREFIX");
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_S3_PREFIX", "a/../b")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_PREFIX");
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_S3_ENDPOINT", "ftp://x")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_ENDPOINT");
    assertThatThrownBy(() -> LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_S3_REGION", "mars")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("NIXEK_LOG_S3_REGION");
  }

  @Test
  void s3OptionsAreReadAndThePrefixEndsWithASlash() {
    LogStoreOptions o = LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "S3", "NIXEK_LOG_S3_BUCKET", "ci-logs",
        "NIXEK_LOG_S3_PREFIX", "nixek/logs", "NIXEK_LOG_S3_REGION", "eu-west-1",
        "NIXEK_LOG_S3_ENDPOINT", "http://127.0.0.1:9000"));
    assertThat(o).isEqualTo(new LogStoreOptions(LogStoreOptions.Kind.S3, Path.of("/var/lib/nixek/logs"), "ci-logs",
        "nixek/logs/", "eu-west-1", Optional.of(URI.create("http://127.0.0.1:9000"))));
    assertThat(o.describe()).isEqualTo("s3://ci-logs/nixek/logs/ at http://127.0.0.1:9000");
    // blank is unset (ConfigOption): the objects never land at the bucket's root by accident
    assertThat(LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_S3_PREFIX", " ")).prefix()).isEqualTo("logs/");
  }

  @Test
  void openMakesALocalStoreInA0700Directory() throws Exception {
    Path logs = dir.resolve("var/logs");
    try (LogStore s = LogStores.open(LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_DIR", logs.toString())))) {
      assertThat(s).isInstanceOf(LocalLogStore.class);
      s.put(LogStoreContract.STEP, 0, 0, "hi".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(logs))).isEqualTo("rwx------");
  }

  @Test
  void openMakesAnS3StoreThatReachesTheEndpointPathStyle() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.builder().transientStore().start()) {
      s3.createBucket("ci-logs");
      LogStoreOptions o = LogStoreOptions.fromEnv(Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "ci-logs",
          "NIXEK_LOG_S3_ENDPOINT", s3.endpoint().toString()));
      var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey()));
      try (LogStore s = LogStores.open(o, credentials)) {
        s.put(LogStoreContract.STEP, 0, 0, "hi".getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.read(LogStoreContract.STEP, 0, 10, out);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hi");
      }
      assertThat(s3.s3Client().listObjectsV2(b -> b.bucket("ci-logs")).contents()).singleElement()
          .satisfies(obj -> assertThat(obj.key()).startsWith("logs/team-a/build.main/"));
    }
  }
}
