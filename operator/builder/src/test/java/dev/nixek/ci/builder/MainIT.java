package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * {@link Main} end to end into s3proxy with a stand-in build command (no Nix needed; NixBuildIT does it with
 * Nix). Credentials reach the SDK's default chain through its system properties, as they would through the
 * environment in a pod.
 */
class MainIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static LocalS3 s3proxy;
  private static S3Client s3;

  @TempDir
  Path dir;

  private String bucket;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  @BeforeAll
  static void start() throws Exception {
    s3proxy = LocalS3.inMemory();
    s3 = s3proxy.client();
    System.setProperty("aws.accessKeyId", LocalS3.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", LocalS3.SECRET_KEY);
  }

  @AfterAll
  static void stop() throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    s3.close();
    s3proxy.close();
  }

  @BeforeEach
  void newBucket() throws Exception {
    bucket = "main-" + UUID.randomUUID();
    s3proxy.createBucket(bucket);
    // the build's PATH has a nix of its own: the result must name the version of that one, no other
    Path nix = Files.createDirectories(dir.resolve("bin")).resolve("nix");
    Files.writeString(nix, "#!/bin/sh\necho 'nix (Nix) 2.26.3-stand-in'\n");
    Files.setPosixFilePermissions(nix, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }

  private int run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(s3proxy.cliOptions());
    all.addAll(List.of("--termination-log", dir.resolve("termination-log").toString(), "--part-size-mib", "5"));
    return new Main(Map.of("PATH", dir.resolve("bin") + ":/usr/bin:/bin"),
        new PrintStream(out, true, StandardCharsets.UTF_8)).run(all.toArray(String[]::new));
  }

  private JsonNode terminationMessage() throws Exception {
    byte[] bytes = Files.readAllBytes(dir.resolve("termination-log"));
    assertThat(bytes.length).isLessThanOrEqualTo(TerminationMessage.MAX_BYTES);
    return JSON.readTree(bytes);
  }

  /** A build command standing in for nix-build: makes an output like amazon-image.nix's, prints its path. */
  private String standInBuild(Path output) {
    return String.join(" && ",
        "mkdir -p " + output + "/nix-support",
        "echo 'building the image' >&2",
        "printf 'nixek' > " + output + "/nixos.vhd",
        "truncate -s 12M " + output + "/nixos.vhd",
        "printf '{\"boot_mode\":\"uefi\",\"system\":\"x86_64-linux\",\"disks\":{\"root\":{\"file\":\"%s\"}}}' "
            + output + "/nixos.vhd > " + output + "/nix-support/image-info.json",
        "echo " + output);
  }

  @Test
  void buildUploadsTheImageAndReportsIt() throws Exception {
    Path output = dir.resolve("out");
    String drv = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image.drv";
    int exit = run("build", "--build-command", standInBuild(output), "--drv-path", drv, "--bucket", bucket,
        "--key-prefix", "machine-images");
    assertThat(exit).isZero();

    JsonNode message = terminationMessage();
    Path image = output.resolve("nixos.vhd");
    String key = "machine-images/0123456789abcdfghijklmnpqrsvwxyz-nixos-amazon-image/nixos.vhd";
    assertThat(message.get("bucket").asText()).isEqualTo(bucket);
    assertThat(message.get("key").asText()).isEqualTo(key);
    assertThat(message.get("size").asLong()).isEqualTo(12 * 1024 * 1024);
    assertThat(message.get("sha256").asText()).isEqualTo(Digests.sha256(image));
    assertThat(message.get("drvPath").asText()).isEqualTo(drv);
    assertThat(message.get("outPath").asText()).isEqualTo(output.toString());
    assertThat(message.get("format").asText()).isEqualTo("VHD");
    assertThat(message.get("bootMode").asText()).isEqualTo("uefi");
    assertThat(message.get("system").asText()).isEqualTo("x86_64-linux");
    assertThat(message.get("nixVersion").asText()).isEqualTo("2.26.3-stand-in");
    assertThat(message.get("uploaded").asBoolean()).isTrue();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("building the image");

    try (InputStream in = s3.getObject(r -> r.bucket(bucket).key(key))) {
      assertThat(Digests.sha256(in)).isEqualTo(Digests.sha256(image));
    }
    HeadObjectResponse head = s3.headObject(r -> r.bucket(bucket).key(key));
    assertThat(head.metadata()).containsEntry("sha256", Digests.sha256(image)).containsEntry("drv-path", drv)
        .containsEntry("out-path", output.toString());

    // the pod restarted after the upload: same result, nothing sent again
    assertThat(run("build", "--build-command", standInBuild(output), "--drv-path", drv, "--bucket", bucket,
        "--key-prefix", "machine-images")).isZero();
    assertThat(terminationMessage().get("uploaded").asBoolean()).isFalse();
    assertThat(terminationMessage().get("sha256").asText()).isEqualTo(message.get("sha256").asText());
  }

  @Test
  void aBuildOfAnotherDerivationThanTheEvaluatedOneFailsBeforeAnyUpload() throws Exception {
    Path output = dir.resolve("out");
    String built = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-image-amazon.drv";
    String evaluated = "/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-nixos-image-amazon.drv";
    int exit = run("build", "--build-command", standInBuild(output), "--drv-path", built, "--expect-drv-path",
        evaluated, "--bucket", bucket, "--key-prefix", "mismatch");
    assertThat(exit).isEqualTo(ExitCode.BUILD_FAILED);
    assertThat(terminationMessage().get("error").asText()).isEqualTo("built " + built + ", but the job's evaluation "
        + "gave " + evaluated + ": the evaluation and the builder do not agree (same nix/, agent jar and nixpkgs?)");
    assertThat(s3.listObjectsV2(r -> r.bucket(bucket).prefix("mismatch/")).contents()).as("nothing uploaded").isEmpty();
    assertThat(run("build", "--build-command", standInBuild(output), "--drv-path", built, "--expect-drv-path", built,
        "--bucket", bucket, "--key-prefix", "mismatch")).as("the same drvPath is fine").isZero();
  }

  @Test
  void uploadFailureExits3WithTheS3Error() throws Exception {
    Path output = dir.resolve("out");
    int exit = run("build", "--build-command", standInBuild(output), "--drv-path", "/nix/store/a-b.drv",
        "--bucket", "no-such-bucket-" + UUID.randomUUID());
    assertThat(exit).isEqualTo(ExitCode.UPLOAD_FAILED);
    JsonNode message = terminationMessage();
    assertThat(message.get("error").asText()).startsWith("S3 upload to s3://no-such-bucket-");
    assertThat(message.get("logTail").asText()).contains("building the image", "caused by: ");
    assertThat(Files.readString(dir.resolve("termination-log"))).doesNotContain(LocalS3.SECRET_KEY);
  }

  @Test
  void hiddenUploadCommandUsesTheSameCodePath() throws Exception {
    Path file = dir.resolve("disk.vmdk");
    Files.write(file, new byte[6 * 1024 * 1024 + 5]);
    assertThat(run("upload", "--file", file.toString(), "--bucket", bucket, "--key", "by-hand/disk.vmdk")).isZero();
    JsonNode message = terminationMessage();
    assertThat(message.get("key").asText()).isEqualTo("by-hand/disk.vmdk");
    assertThat(message.get("format").asText()).isEqualTo("VMDK");
    assertThat(message.get("sha256").asText()).isEqualTo(Digests.sha256(file));
    assertThat(message.has("drvPath")).isFalse();
    assertThat(message.has("outPath")).isFalse();
  }
}
