package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/** The uploader against a real S3 protocol server (s3proxy, in memory). */
class MultipartUploaderIT {
  private static final int PART = 5 * 1024 * 1024;
  private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  private static LocalS3 s3proxy;
  private static RecordingInterceptor recorder;
  private static S3Client s3;

  @TempDir
  Path dir;

  private String bucket;

  @BeforeAll
  static void startS3() throws Exception {
    s3proxy = LocalS3.inMemory();
    recorder = new RecordingInterceptor();
    s3 = s3proxy.client(recorder);
  }

  @AfterAll
  static void stopS3() throws Exception {
    s3.close();
    s3proxy.close();
  }

  @BeforeEach
  void newBucket() {
    bucket = "b-" + UUID.randomUUID();
    s3proxy.createBucket(bucket);
    recorder.reset();
  }

  @AfterEach
  void noUploadLeftBehind() {
    assertThat(s3.listMultipartUploads(r -> r.bucket(bucket)).uploads()).isEmpty();
  }

  private UploadResult upload(Path file, String key) throws Exception {
    return new MultipartUploader(s3, PART).upload(file, bucket, key, Map.of("drv-path", "/nix/store/x-image.drv"));
  }

  private Path randomFile(String name, long size) throws IOException {
    Path file = dir.resolve(name);
    byte[] bytes = new byte[(int) size];
    new Random(size).nextBytes(bytes);
    return Files.write(file, bytes);
  }

  private String storedSha256(String key) throws IOException {
    try (InputStream in = s3.getObject(r -> r.bucket(bucket).key(key))) {
      return Digests.sha256(in);
    }
  }

  @Test
  void severalPartsAndAShortTail() throws Exception {
    Path file = randomFile("disk.raw", 3L * PART + 1234);
    UploadResult result = upload(file, "images/disk.raw");

    assertThat(result).isEqualTo(new UploadResult(3L * PART + 1234, Digests.sha256(file), true, 4, PART));
    assertThat(recorder.operations()).containsExactly("HeadObject", "CreateMultipartUpload",
        "UploadPart", "UploadPart", "UploadPart", "UploadPart", "CompleteMultipartUpload");
    assertThat(s3.getObjectAsBytes(r -> r.bucket(bucket).key("images/disk.raw")).asByteArray())
        .isEqualTo(Files.readAllBytes(file));
    assertThat(storedSha256("images/disk.raw")).isEqualTo(result.sha256());
    HeadObjectResponse head = s3.headObject(r -> r.bucket(bucket).key("images/disk.raw"));
    assertThat(head.contentLength()).isEqualTo(3L * PART + 1234);
    assertThat(head.metadata()).containsEntry("sha256", result.sha256())
        .containsEntry("drv-path", "/nix/store/x-image.drv");
  }

  @Test
  void exactMultipleOfThePartSize() throws Exception {
    Path file = randomFile("disk.vhd", 2L * PART);
    UploadResult result = upload(file, "k");
    assertThat(result.partCount()).isEqualTo(2);
    assertThat(recorder.count("UploadPart")).isEqualTo(2);
    assertThat(storedSha256("k")).isEqualTo(Digests.sha256(file));
  }

  @Test
  void emptyFile() throws Exception {
    Path file = Files.createFile(dir.resolve("empty.raw"));
    UploadResult result = upload(file, "empty.raw");
    assertThat(result.sha256()).isEqualTo(EMPTY_SHA256);
    assertThat(result.size()).isZero();
    assertThat(recorder.operations()).containsExactly("HeadObject", "PutObject");
    HeadObjectResponse head = s3.headObject(r -> r.bucket(bucket).key("empty.raw"));
    assertThat(head.contentLength()).isZero();
    assertThat(head.metadata()).containsEntry("sha256", EMPTY_SHA256);
  }

  @Test
  void sparseFile() throws Exception {
    Path file = dir.resolve("sparse.raw");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(2L * PART + 7);
      raf.seek(PART + 100);
      raf.write("data in the middle of a hole".getBytes());
    }
    UploadResult result = upload(file, "sparse.raw");
    assertThat(result.partCount()).isEqualTo(3);
    assertThat(result.sha256()).isEqualTo(Digests.sha256(file));
    assertThat(storedSha256("sparse.raw")).isEqualTo(result.sha256());
    assertThat(s3.headObject(r -> r.bucket(bucket).key("sparse.raw")).contentLength()).isEqualTo(2L * PART + 7);
  }

  @Test
  void failedPartAbortsTheUpload() throws Exception {
    Path file = randomFile("disk.raw", 4L * PART);
    recorder.before(request -> {
      if (request instanceof UploadPartRequest part && part.partNumber() == 3) {
        throw SdkClientException.create("injected failure of part 3");
      }
    });
    assertThatThrownBy(() -> upload(file, "disk.raw"))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.UPLOAD_FAILED))
        .hasMessageContaining("injected failure of part 3");
    assertThat(recorder.operations()).contains("AbortMultipartUpload").doesNotContain("CompleteMultipartUpload");
    assertThat(s3.listMultipartUploads(r -> r.bucket(bucket)).uploads()).isEmpty();
    assertThatThrownBy(() -> s3.headObject(r -> r.bucket(bucket).key("disk.raw")))
        .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));
  }

  @Test
  void fileChangedAfterHashingAbortsTheUpload() throws Exception {
    Path file = randomFile("disk.raw", 2L * PART + 1);
    recorder.before(request -> {
      if (request instanceof CreateMultipartUploadRequest) {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
          raf.write(0x55);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    });
    assertThatThrownBy(() -> upload(file, "disk.raw"))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.UPLOAD_FAILED))
        .hasMessageContaining("changed while it was uploaded");
    assertThat(recorder.operations()).contains("AbortMultipartUpload").doesNotContain("CompleteMultipartUpload");
  }

  @Test
  void rerunWithTheSameContentSkipsTheUpload() throws Exception {
    Path file = randomFile("disk.raw", PART + 10);
    UploadResult first = upload(file, "disk.raw");
    recorder.reset();

    UploadResult second = upload(file, "disk.raw");
    assertThat(second.uploaded()).isFalse();
    assertThat(second.sha256()).isEqualTo(first.sha256());
    assertThat(second.size()).isEqualTo(first.size());
    assertThat(recorder.operations()).containsExactly("HeadObject");

    // same size, other bytes: the object is replaced
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(PART);
      raf.write(new byte[10]);
    }
    recorder.reset();
    UploadResult third = upload(file, "disk.raw");
    assertThat(third.uploaded()).isTrue();
    assertThat(third.sha256()).isNotEqualTo(first.sha256());
    assertThat(storedSha256("disk.raw")).isEqualTo(third.sha256());
  }

  @Test
  void wrongCredentialsFailBeforeTheFileIsRead() throws Exception {
    Path file = randomFile("disk.raw", 100);
    RecordingInterceptor own = new RecordingInterceptor();
    try (S3Client wrong = S3Client.builder()
        .endpointOverride(s3proxy.endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(LocalS3.ACCESS_KEY, "wrong")))
        .overrideConfiguration(c -> c.addExecutionInterceptor(own))
        .httpClient(UrlConnectionHttpClient.create()).build()) {
      assertThatThrownBy(() -> new MultipartUploader(wrong, PART).upload(file, bucket, "k", Map.of()))
          .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.UPLOAD_FAILED))
          .hasMessageContaining("denied (403)");
    }
    assertThat(own.operations()).containsExactly("HeadObject");
  }

  @Test
  void missingBucketIsAnUploadFailure() throws Exception {
    Path file = randomFile("disk.raw", 100);
    assertThatThrownBy(() -> new MultipartUploader(s3, PART).upload(file, "no-such-bucket", "k", Map.of()))
        .isInstanceOfSatisfying(BuilderException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.UPLOAD_FAILED));
  }
}
