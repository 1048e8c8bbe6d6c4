package dev.nixek.ci.common.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The contract on s3proxy (a real S3 protocol server, in-process), plus the S3 layout: key names, chunk metadata,
 * chunk objects gone after sealing, nothing touched outside the prefix.
 */
class S3LogStoreTest extends LogStoreContract {
  static final String BUCKET = "nixek-logs";
  static S3ProxyServer s3proxy;
  String prefix;

  @BeforeAll
  static void startS3() {
    s3proxy = S3ProxyServer.builder().transientStore().start();
    s3proxy.createBucket(BUCKET);
  }

  @AfterAll
  static void stopS3() {
    s3proxy.close();
  }

  @BeforeEach
  void freshPrefix() {
    prefix = "test-" + System.nanoTime() + "/logs/";
  }

  @Override
  protected LogStore openStore() {
    return new S3LogStore(s3proxy.s3Client(), BUCKET, prefix, false);
  }

  @Override
  protected long storedEntries() {
    return keys(prefix).size();
  }

  List<String> keys(String under) {
    return s3proxy.s3Client().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(under)).contents().stream()
        .map(S3Object::key).toList();
  }

  @Test
  void oneObjectPerChunkWithItsOffsetAndHashThenOneSealedLog() throws IOException {
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("ab"), bytes("cde")});
    String step = prefix + "team-a/build.main/" + STEP.jobUid() + "/steps/0/";
    assertThat(keys(prefix)).containsExactly(step + "unsealed/0000000000000000000", step + "unsealed/0000000000000000001");
    Map<String, String> meta = s3proxy.s3Client()
        .headObject(b -> b.bucket(BUCKET).key(step + "unsealed/0000000000000000001")).metadata();
    assertThat(meta).containsEntry("offset", "2").containsEntry("sha256", ChunkIndex.sha256Hex(bytes("cde")));

    s.seal(STEP);
    assertThat(keys(prefix)).containsExactly(step + "log", step + "log.index");
    assertThat(s3proxy.s3Client().getObjectAsBytes(b -> b.bucket(BUCKET).key(step + "log")).asUtf8String())
        .isEqualTo("abcde");
  }

  @Test
  void objectsOutsideThePrefixAreNeverTouched() throws IOException {
    String outside = "elsewhere/team-a/build.main/" + STEP.jobUid() + "/steps/0/log";
    s3proxy.s3Client().putObject(b -> b.bucket(BUCKET).key(outside), RequestBody.fromString("keep"));
    LogStore s = store();
    putAll(s, STEP, new byte[][] {bytes("x")});
    s.seal(STEP);
    s.delete(STEP.job());
    assertThat(s.jobs()).isEmpty();
    assertThat(keys("elsewhere/")).containsExactly(outside);
  }

  @Test
  void sealingRefusesChunksWhoseOffsetsDoNotFollowOn() throws IOException {
    LogStore s = store();
    s.put(STEP, 0, 0, bytes("abc"));
    s.put(STEP, 1, 5, bytes("def"));
    assertThatThrownBy(() -> s.seal(STEP)).isInstanceOf(IOException.class).hasMessageContaining("expected offset 3");
    assertThat(s.state(STEP).sealed()).isFalse();
    assertThat(keys(prefix)).hasSize(2);
  }

  @Test
  void aMissingBucketIsAnIoErrorNamingIt() {
    try (LogStore s = new S3LogStore(s3proxy.s3Client(), "no-such-bucket", "logs/", false)) {
      assertThatThrownBy(() -> s.put(STEP, 0, 0, bytes("x"))).isInstanceOf(IOException.class)
          .hasMessageContaining("s3://no-such-bucket/logs/team-a/build.main/");
    }
  }
}
