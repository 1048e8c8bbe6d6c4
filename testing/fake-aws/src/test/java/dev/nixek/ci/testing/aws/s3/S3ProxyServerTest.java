package dev.nixek.ci.testing.aws.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.testing.aws.S3ObjectLookup;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;
import software.amazon.awssdk.services.ec2.model.ImportSnapshotTask;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** s3proxy in-process, and FakeEc2's ImportSnapshot checking objects on it. */
class S3ProxyServerTest {

    private static S3ProxyServer s3;

    @BeforeAll
    static void start() {
        s3 = S3ProxyServer.start();
        s3.createBucket("images");
    }

    @AfterAll
    static void stop() {
        s3.close();
    }

    @Test
    void putGetHeadAndTheFilesystemStore() {
        S3Client c = s3.s3Client();
        c.putObject(r -> r.bucket("images").key("a/b.raw"), RequestBody.fromString("disk bytes"));
        assertThat(c.getObjectAsBytes(r -> r.bucket("images").key("a/b.raw")).asString(StandardCharsets.UTF_8))
                .isEqualTo("disk bytes");
        assertThat(c.headObject(r -> r.bucket("images").key("a/b.raw")).contentLength()).isEqualTo(10L);
        Path dir = s3.storeDirectory().orElseThrow();
        assertThat(dir.resolve("images")).isDirectory();
        assertThat(s3.endpoint().getHost()).isEqualTo("127.0.0.1");
        s3.createBucket("images"); // idempotent
    }

    @Test
    void multipartUploadWorks() {
        S3Client c = s3.s3Client();
        String uploadId = c.createMultipartUpload(r -> r.bucket("images").key("big.raw")).uploadId();
        byte[] part = new byte[5 * 1024 * 1024];
        List<CompletedPart> parts = new ArrayList<>();
        for (int n = 1; n <= 2; n++) {
            int pn = n;
            String etag = c.uploadPart(r -> r.bucket("images").key("big.raw").uploadId(uploadId).partNumber(pn),
                    RequestBody.fromBytes(part)).eTag();
            parts.add(CompletedPart.builder().partNumber(pn).eTag(etag).build());
        }
        c.completeMultipartUpload(r -> r.bucket("images").key("big.raw").uploadId(uploadId)
                .multipartUpload(m -> m.parts(parts)));
        assertThat(s3.objectLookup().objectSize("images", "big.raw")).isEqualTo(OptionalLong.of(10L * 1024 * 1024));
    }

    @Test
    void wrongCredentialsAreRefused() {
        try (S3Client bad = s3.newS3Client(b -> b.credentialsProvider(() ->
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(s3.accessKey(), "wrong")))) {
            assertThatThrownBy(() -> bad.listBuckets()).isInstanceOf(S3Exception.class)
                    .satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(403));
        }
    }

    @Test
    void objectLookupAnswersSizeOrEmpty() {
        s3.s3Client().putObject(r -> r.bucket("images").key("present.raw"), RequestBody.fromString("12345"));
        S3ObjectLookup lookup = s3.objectLookup();
        assertThat(lookup.objectSize("images", "present.raw")).isEqualTo(OptionalLong.of(5));
        assertThat(lookup.objectSize("images", "absent.raw")).isEmpty();
        assertThat(lookup.objectSize("no-such-bucket", "x")).isEmpty();
    }

    @Test
    void importSnapshotRefusesAMissingObjectAndAcceptsAnUploadedOne() {
        try (FakeEc2 fake = FakeEc2.builder().s3ObjectLookup(s3.objectLookup()).importPolls(2).start();
             Ec2Client ec2 = fake.ec2Client()) {
            assertThatThrownBy(() -> ec2.importSnapshot(r -> r.diskContainer(d -> d.format("RAW")
                    .userBucket(u -> u.s3Bucket("images").s3Key("nixos/img.raw")))))
                    .isInstanceOf(Ec2Exception.class)
                    .satisfies(e -> assertThat(((Ec2Exception) e).awsErrorDetails().errorCode()).isEqualTo("InvalidParameter"));

            byte[] image = new byte[3 * 1024 * 1024];
            s3.s3Client().putObject(r -> r.bucket("images").key("nixos/img.raw"), RequestBody.fromBytes(image));
            String task = ec2.importSnapshot(r -> r.diskContainer(d -> d.format("RAW")
                    .userBucket(u -> u.s3Bucket("images").s3Key("nixos/img.raw")))).importTaskId();
            ec2.describeImportSnapshotTasks(r -> r.importTaskIds(task));
            ImportSnapshotTask done = ec2.describeImportSnapshotTasks(r -> r.importTaskIds(task)).importSnapshotTasks().get(0);
            assertThat(done.snapshotTaskDetail().status()).isEqualTo("completed");
            assertThat(done.snapshotTaskDetail().diskImageSize()).isEqualTo((double) image.length);
            String snap = done.snapshotTaskDetail().snapshotId();
            assertThat(ec2.describeSnapshots(r -> r.snapshotIds(snap)).snapshots().get(0).volumeSize()).isEqualTo(1);
        }
    }

    @Test
    void transientStoreAndAnExplicitDirectory(@TempDir Path tmp) throws Exception {
        try (S3ProxyServer mem = S3ProxyServer.builder().transientStore().start()) {
            mem.createBucket("bkt");
            mem.s3Client().putObject(r -> r.bucket("bkt").key("k"), RequestBody.fromString("v"));
            assertThat(mem.objectLookup().objectSize("bkt", "k")).isEqualTo(OptionalLong.of(1));
            assertThat(mem.storeDirectory()).isEmpty();
        }
        Path dir = tmp.resolve("store");
        try (S3ProxyServer fs = S3ProxyServer.builder().filesystem(dir).credentials("id", "secret").start()) {
            fs.createBucket("bkt");
            fs.s3Client().putObject(r -> r.bucket("bkt").key("k"), RequestBody.fromString("v"));
        }
        assertThat(Files.isDirectory(dir.resolve("bkt"))).as("an explicit directory is kept on close").isTrue();
    }

    @Test
    void thirdPartyLoggersAreQuietWithoutAnyConfiguration() {
        // logback-test.xml here sets only the root level, so these levels come from QuietLogging
        ch.qos.logback.classic.LoggerContext ctx = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
        for (String name : List.of("org.gaul", "org.eclipse.jetty", "software.amazon.awssdk")) {
            assertThat(ctx.getLogger(name).getLevel()).as(name).isEqualTo(ch.qos.logback.classic.Level.WARN);
        }
        assertThat(ctx.getLogger("org.gaul.s3proxy.S3ProxyHandler").isDebugEnabled()).isFalse();
    }
}
