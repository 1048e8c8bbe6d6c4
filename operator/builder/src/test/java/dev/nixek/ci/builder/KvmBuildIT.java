package dev.nixek.ci.builder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.testing.kube.RequiredTools;
import dev.nixek.ci.testing.kube.TestBinaries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * KVM with real Nix: a stand-in for nixpkgs' disk-image VM — a derivation with {@code requiredSystemFeatures =
 * [ "kvm" ]} that opens /dev/kvm and asks its API version, on top of an ordinary input — built by the builder
 * with the device, refused at once without it, and let through by the emulation fallback. Nix's own configuration
 * here lists no {@code kvm} (as on a node without the device): only the builder's claim lets Nix build it.
 */
class KvmBuildIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Nix's features without kvm; no binary cache (offline); and builds run as the user that runs Nix, as in the pod
   * (single-user Nix as the pod's uid) — root's build users (nixbld*) could not open a 0600 /dev/kvm.
   */
  private static final String NIX_CONFIG = "substituters =\nsystem-features = benchmark big-parallel\n"
      + "build-users-group =";
  /** KVM_GET_API_VERSION, _IO(0xAE, 0x00): the first thing QEMU asks /dev/kvm; the answer has been 12 since 2.6.22. */
  private static final String ASK_KVM = "/usr/bin/python3 -c 'import fcntl, os; "
      + "fd = os.open(\"/dev/kvm\", os.O_RDWR); print(\"KVM API version\", fcntl.ioctl(fd, 0xAE00))'";

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
    if (!storePaths.isEmpty()) {
      List<String> command = new ArrayList<>(List.of("nix-store", "--delete"));
      command.addAll(storePaths);
      new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void newBucket() {
    RequiredTools.nix();
    bucket = "kvm-" + UUID.randomUUID();
    s3proxy.createBucket(bucket);
  }

  /**
   * An image derivation running {@code script}, requiring kvm when {@code kvm}, with an input derivation built
   * before it (whose absence afterwards shows that nothing was built). Returns the expression file.
   */
  private Path expression(String name, boolean kvm, String script) throws Exception {
    String nix = """
        let
          input = builtins.derivation {
            name = "%1$s-input";
            system = builtins.currentSystem;
            builder = "/bin/sh";
            nonce = "%2$s";
            args = [ "-c" "echo input > $out" ];
          };
        in builtins.derivation {
          name = "%1$s";
          system = builtins.currentSystem;
          builder = "/bin/sh";
          %3$s
          inherit input;
          args = [ "-c" ''%4$s && /usr/bin/mkdir -p $out && echo $input > $out/disk.raw && /usr/bin/truncate -s 8M $out/disk.raw'' ];
        }
        """.formatted(name, UUID.randomUUID(), kvm ? "requiredSystemFeatures = [ \"kvm\" ];" : "", script);
    Path file = Files.writeString(dir.resolve(name + ".nix"), nix);
    String drv = nix("nix-instantiate", file.toString());
    storePaths.add(drv);
    return file;
  }

  private BuilderProcess.Result build(Path expr, Map<String, String> extraEnv, String... extraArgs) throws Exception {
    List<String> args = new ArrayList<>(List.of("build", "--expr-file", expr.toString(), "--bucket", bucket,
        "--termination-log", dir.resolve("termination-log").toString()));
    args.addAll(s3proxy.cliOptions());
    args.addAll(List.of(extraArgs));
    Map<String, String> env = new java.util.HashMap<>(Map.of(
        "AWS_ACCESS_KEY_ID", LocalS3.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY", LocalS3.SECRET_KEY,
        "NIX_CONFIG", NIX_CONFIG));
    env.putAll(extraEnv);
    return BuilderProcess.run(args, env, dir.resolve("builder-output.txt"));
  }

  private JsonNode terminationMessage() throws Exception {
    return JSON.readTree(Files.readAllBytes(dir.resolve("termination-log")));
  }

  private static String nix(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
    return out;
  }

  /** The output path of the input derivation of {@code expr}'s image, built or not. */
  private static String inputOutPath(Path expr) throws Exception {
    return nix("nix-instantiate", "--eval", "--json", "--expr", "(import " + expr + ").input.outPath")
        .replace("\"", "");
  }

  private static boolean valid(String storePath) throws Exception {
    return new ProcessBuilder("nix-store", "--check-validity", storePath).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
  }

  private void recordOutputs(JsonNode message) {
    storePaths.add(0, message.get("outPath").asText());
  }

  @Test
  void withAUsableDeviceTheVmDerivationIsBuiltAndOpensKvm() throws Exception {
    Optional<String> problem = KvmDevice.problem(KvmDevice.DEFAULT);
    if (problem.isPresent() && TestBinaries.isCi()) {
      fail("this test needs /dev/kvm under CI=true, but " + problem.get());
    }
    assumeTrue(problem.isEmpty(), () -> "skipped: " + problem.get());
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")) || TestBinaries.isCi(), "no /usr/bin/python3");
    Path expr = expression("kvm-image", true, ASK_KVM);

    BuilderProcess.Result result = build(expr, Map.of());

    assertThat(result.exitCode()).as(result.output()).isZero();
    JsonNode message = terminationMessage();
    recordOutputs(message);
    assertThat(message.get("key").asText()).endsWith("/disk.raw");
    assertThat(result.output()).contains("KVM: /dev/kvm is usable", "KVM API version 12");
  }

  @Test
  void withoutTheDeviceABuildThatNeedsKvmFailsBeforeBuildingAnythingSayingWhatToConfigure() throws Exception {
    Path expr = expression("kvm-image-refused", true, ASK_KVM);
    Path hidden = dir.resolve("no-kvm");

    long start = System.nanoTime();
    BuilderProcess.Result result = build(expr, Map.of(KvmDevice.DEVICE_ENV, hidden.toString()));
    long millis = (System.nanoTime() - start) / 1_000_000;

    assertThat(result.exitCode()).as(result.output()).isEqualTo(ExitCode.BUILD_FAILED);
    String error = terminationMessage().get("error").asText();
    assertThat(error).startsWith("this build needs KVM, but " + hidden + " does not exist in the builder pod: "
        + "kvm-image-refused.drv requires the system feature 'kvm'")
        .contains("NIXEK_BUILDER_KVM_RESOURCE", "builder.kvm.resource", "NIXEK_BUILDER_KVM_FALLBACK=emulate",
            "docs/images.md#kvm");
    // refused before anything was built: the input the VM step depends on was not built either
    assertThat(valid(inputOutPath(expr))).as("the image's input was built").isFalse();
    assertThat(s3.listObjectsV2(r -> r.bucket(bucket)).contents()).isEmpty();
    System.out.println("KvmBuildIT: refused without KVM in " + millis + " ms (builder JVM start included)");
  }

  @Test
  void withoutTheDeviceABuildThatNeedsNoKvmIsNotRefused() throws Exception {
    Path expr = expression("plain-image", false, "echo no VM here");

    BuilderProcess.Result result = build(expr, Map.of(KvmDevice.DEVICE_ENV, dir.resolve("no-kvm").toString()));

    assertThat(result.exitCode()).as(result.output()).isZero();
    recordOutputs(terminationMessage());
    assertThat(result.output()).contains("nothing this build needs requires 'kvm'", "no VM here");
  }

  @Test
  void theEmulationFallbackLetsNixBuildTheVmDerivationWithoutTheDevice() throws Exception {
    // the stand-in cannot emulate a VM; it stands for QEMU falling back to TCG, which needs no /dev/kvm
    Path expr = expression("kvm-image-emulated", true, "echo emulating the VM");

    BuilderProcess.Result result = build(expr, Map.of(KvmDevice.DEVICE_ENV, dir.resolve("no-kvm").toString()),
        "--kvm-fallback", "emulate");

    assertThat(result.exitCode()).as(result.output()).isZero();
    recordOutputs(terminationMessage());
    assertThat(result.output()).contains("NIXEK_BUILDER_KVM_FALLBACK=emulate", "emulating the VM");
  }
}
