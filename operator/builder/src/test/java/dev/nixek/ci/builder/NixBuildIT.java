package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.RequiredTools;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The builder pod's whole job with real Nix: the shaded jar runs the default build command ({@code nix-build})
 * on a stand-in image expression (no nixpkgs offline: {@code builtins.derivation} with absolute tool paths),
 * finds the image, asks Nix for the drvPath, and streams the image into s3proxy.
 */
class NixBuildIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SIZE = 64L * 1024 * 1024;

  @TempDir
  static Path storeDir;

  private static LocalS3 s3proxy;
  private static S3Client s3;
  private static final List<String> storePaths = new ArrayList<>();

  @TempDir
  Path dir;

  private String bucket;

  @BeforeAll
  static void start() throws Exception {
    s3proxy = LocalS3.onDisk(storeDir);
    s3 = s3proxy.client();
  }

  @AfterAll
  static void stop() throws Exception {
    s3.close();
    s3proxy.close();
    // the stand-ins are unique per run (a nonce); drop them so test runs do not pile up in /nix/store
    if (!storePaths.isEmpty()) {
      List<String> command = new ArrayList<>(List.of("nix-store", "--delete"));
      command.addAll(storePaths);
      new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void newBucket() {
    // per test, so that a skip is reported for each test, with its reason
    RequiredTools.nix();
    bucket = "nix-" + UUID.randomUUID();
    s3proxy.createBucket(bucket);
  }

  /** A derivation whose builder runs {@code script} with /bin/sh; the nonce forces a real build each run. */
  private Path expression(String name, String script) throws Exception {
    String nix = """
        builtins.derivation {
          name = "%s";
          system = builtins.currentSystem;
          builder = "/bin/sh";
          nonce = "%s";
          args = [ "-c" ''%s'' ];
        }
        """.formatted(name, UUID.randomUUID(), script);
    return Files.writeString(dir.resolve(name + ".nix"), nix);
  }

  private BuilderProcess.Result build(Path expr) throws Exception {
    List<String> args = new ArrayList<>(List.of("build", "--expr-file", expr.toString(), "--bucket", bucket,
        "--termination-log", dir.resolve("termination-log").toString()));
    args.addAll(s3proxy.cliOptions());
    return BuilderProcess.run(args, Map.of(
        "AWS_ACCESS_KEY_ID", LocalS3.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY", LocalS3.SECRET_KEY,
        // offline: no binary cache to ask (else ~4 s of retries per build)
        "NIX_CONFIG", "substituters ="), dir.resolve("builder-output.txt"));
  }

  private JsonNode terminationMessage() throws Exception {
    byte[] bytes = Files.readAllBytes(dir.resolve("termination-log"));
    assertThat(bytes.length).isLessThanOrEqualTo(TerminationMessage.MAX_BYTES);
    return JSON.readTree(bytes);
  }

  private static String nix(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
    return out;
  }

  private void assertUploaded(JsonNode message, Path image) throws Exception {
    String sha256 = Digests.sha256(image);
    assertThat(message.get("bucket").asText()).isEqualTo(bucket);
    assertThat(message.get("size").asLong()).isEqualTo(SIZE);
    assertThat(message.get("sha256").asText()).isEqualTo(sha256);
    assertThat(message.get("uploaded").asBoolean()).isTrue();
    String key = message.get("key").asText();
    try (InputStream in = s3.getObject(r -> r.bucket(bucket).key(key))) {
      assertThat(Digests.sha256(in)).isEqualTo(sha256);
    }
    assertThat(s3.headObject(r -> r.bucket(bucket).key(key)).metadata())
        .containsEntry("sha256", sha256)
        .containsEntry("drv-path", message.get("drvPath").asText());
  }

  @Test
  void rawImageWithoutImageInfo() throws Exception {
    Path expr = expression("stand-in-image", "echo building the stand-in image; "
        + "/usr/bin/mkdir -p $out/nix-support && echo $nonce > $out/disk.raw && /usr/bin/truncate -s 64M $out/disk.raw");
    String drvPath = nix("nix-instantiate", expr.toString());

    BuilderProcess.Result result = build(expr);
    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode message = terminationMessage();
    String outPath = message.get("outPath").asText();
    storePaths.addAll(List.of(outPath, drvPath));

    assertThat(message.get("drvPath").asText()).isEqualTo(drvPath);
    assertThat(outPath).isEqualTo(nix("nix-store", "--query", "--outputs", drvPath));
    assertThat(message.get("format").asText()).isEqualTo("RAW");
    assertThat(message.has("bootMode")).isFalse();
    assertThat(message.get("key").asText())
        .isEqualTo("images/" + Path.of(drvPath).getFileName().toString().replace(".drv", "") + "/disk.raw");
    assertUploaded(message, Path.of(outPath, "disk.raw"));
    assertThat(result.output()).contains("building the stand-in image").doesNotContain(LocalS3.SECRET_KEY);
  }

  @Test
  void nixosStyleImageWithImageInfo() throws Exception {
    Path expr = expression("stand-in-nixos-amazon-image", String.join(" && ",
        "/usr/bin/mkdir -p $out/nix-support",
        "echo $nonce > $out/nixos-amazon-image.vhd",
        "/usr/bin/truncate -s 64M $out/nixos-amazon-image.vhd",
        "echo \"{\\\"label\\\":\\\"stand-in\\\",\\\"boot_mode\\\":\\\"uefi\\\",\\\"system\\\":\\\"${builtins.currentSystem}\\\","
            + "\\\"disks\\\":{\\\"root\\\":{\\\"logical_bytes\\\":\\\"67108864\\\",\\\"file\\\":\\\"$out/nixos-amazon-image.vhd\\\"}}}\""
            + " > $out/nix-support/image-info.json"));
    String drvPath = nix("nix-instantiate", expr.toString());
    String system = nix("nix-instantiate", "--eval", "--json", "--expr", "builtins.currentSystem").replace("\"", "");

    BuilderProcess.Result result = build(expr);
    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode message = terminationMessage();
    String outPath = message.get("outPath").asText();
    storePaths.addAll(List.of(outPath, drvPath));

    assertThat(message.get("drvPath").asText()).isEqualTo(drvPath);
    assertThat(message.get("format").asText()).isEqualTo("VHD");
    assertThat(message.get("bootMode").asText()).isEqualTo("uefi");
    assertThat(message.get("system").asText()).isEqualTo(system);
    assertUploaded(message, Path.of(outPath, "nixos-amazon-image.vhd"));
  }

  @Test
  void failingDerivationExits2WithTheBuildLogTail() throws Exception {
    Path expr = expression("failing-image",
        "echo compiling the kernel; echo 'stand-in build error: disk full' >&2; exit 1");
    BuilderProcess.Result result = build(expr);

    assertThat(result.exitCode()).as(result.output()).isEqualTo(ExitCode.BUILD_FAILED);
    JsonNode message = terminationMessage();
    assertThat(message.get("error").asText()).startsWith("build command exited with status");
    assertThat(message.get("logTail").asText()).contains("compiling the kernel", "stand-in build error: disk full",
        "failing-image");
    assertThat(s3.listObjectsV2(r -> r.bucket(bucket)).contents()).isEmpty();
  }
}
