package dev.nixek.ci.operator.image;

import static org.junit.jupiter.api.Assertions.fail;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageSpec;
import dev.nixek.ci.testing.aws.ec2.FakeEc2;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.RequiredTools;
import dev.nixek.ci.testing.kube.PodGitConfig;
import dev.nixek.ci.testing.kube.TestKubelet;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * What the image tests run against: s3proxy (real S3 protocol) with the image bucket, the stateful EC2 fake whose
 * ImportSnapshot checks the object in that s3proxy, and the operator settings that point at both, with the builder
 * pod running this repository's builder jar and a stand-in build command (no nixpkgs offline: a
 * {@code builtins.derivation} that writes a 64 MiB sparse raw disk from the machine's text, so that the upload is
 * multipart and every machine gives another image).
 */
final class ImageTestEnv implements AutoCloseable {
  static final Path HOME = Path.of(System.getProperty("nixek.home", "../..")).toAbsolutePath().normalize();
  static final Path BUILDER_JAR = Path.of(System.getProperty("nixek.builder.jar",
      HOME.resolve("operator/builder/target/nixek-builder.jar").toString()));
  static final String BUCKET = "nixek-images";
  static final String REGION = "us-east-1";
  static final String CLUSTER = "it";
  /** A machine containing this fails its stand-in build. */
  static final String FAIL_MARKER = "fail-the-build";

  final S3ProxyServer s3;
  final FakeEc2 ec2;
  final Path work;
  private final List<String> storePaths = new ArrayList<>();

  private ImageTestEnv(Path work, Consumer<FakeEc2.Builder> ec2Settings) throws IOException {
    this.work = work;
    this.s3 = S3ProxyServer.start();
    s3.createBucket(BUCKET);
    FakeEc2.Builder b = FakeEc2.builder().s3ObjectLookup(s3.objectLookup()).importPolls(3);
    ec2Settings.accept(b);
    this.ec2 = b.start();
    Files.writeString(standInExpression(), """
        # Stand-in for nix/machine.nix (no nixpkgs offline): a 64 MiB sparse raw disk holding the machine's text
        # (an evaluated machine has no machine.nix: its expression, naming the drvPath, makes it unique then).
        { expr }:
        let
          file = dirOf expr + "/machine.nix";
          machine = if builtins.pathExists file then builtins.readFile file else builtins.readFile expr;
        in
        builtins.derivation {
          name = "stand-in-nixos-amazon-image";
          system = builtins.currentSystem;
          builder = "/bin/sh";
          inherit machine;
          recipe = builtins.readFile expr;
          args = [ "-c" ''
            case "$machine" in *%s*) echo "stand-in build error: the machine asked to fail" >&2; exit 1;; esac
            echo building the stand-in image
            /usr/bin/mkdir -p $out
            printf '%%s' "$machine" > $out/disk.raw
            /usr/bin/truncate -s 64M $out/disk.raw
          '' ];
        }
        """.formatted(FAIL_MARKER));
    Files.writeString(chainExpression(), """
        # Stand-in for nix/machine.nix with a closure: four derivations, each holding the one before, that every
        # machine of one nonce shares, and the "image", which holds the machine's text and the fourth.
        { expr, nonce }:
        let
          file = dirOf expr + "/machine.nix";
          machine = if builtins.pathExists file then builtins.readFile file else builtins.readFile expr;
          step = name: prev: line: builtins.derivation {
            inherit name line nonce;
            system = builtins.currentSystem;
            builder = "/bin/sh";
            prev = if prev == null then "" else prev;
            # the path written into the output is a reference: four's closure is all four
            args = [ "-c" ''echo "$line" > $out; if [ -n "$prev" ]; then echo "$prev" >> $out; /usr/bin/cat "$prev" >> $out; fi'' ];
          };
          one = step "chain-one" null "one";
          two = step "chain-two" one "two";
          three = step "chain-three" two "three";
          four = step "chain-four" three "four";
        in
        builtins.derivation {
          name = "chain-nixos-amazon-image";
          system = builtins.currentSystem;
          builder = "/bin/sh";
          inherit machine four;
          args = [ "-c" ''
            /usr/bin/mkdir -p $out
            { printf '%s' "$machine"; /usr/bin/cat "$four"; } > $out/disk.raw
            /usr/bin/truncate -s 8M $out/disk.raw
          '' ];
        }
        """);
    Files.writeString(agentJar(), "stand-in agent jar\n");
  }

  static ImageTestEnv start(Path work) throws IOException {
    return start(work, b -> { });
  }

  static ImageTestEnv start(Path work, Consumer<FakeEc2.Builder> ec2Settings) throws IOException {
    RequiredTools.nix(); // the builder pods run nix
    if (!Files.isRegularFile(BUILDER_JAR)) {
      fail("the builder jar " + BUILDER_JAR + " is missing: build operator/builder first (mvn -pl operator/controller "
          + "-am verify does)");
    }
    // builder pods run as the image's user, not root: they must reach the stand-in expression in this directory
    TestKubelet.passableByPods(work);
    return new ImageTestEnv(work, ec2Settings);
  }

  Path standInExpression() {
    return work.resolve("stand-in-image.nix");
  }

  /** The stand-in with a closure of five derivations ({@code --argstr nonce}: the chain's own paths). */
  Path chainExpression() {
    return work.resolve("chain-image.nix");
  }

  /** A build command of {@link #chainExpression} for the chain of {@code nonce}. */
  String chainBuildCommand(String nonce) {
    return "nix-build --no-out-link " + chainExpression() + " --argstr expr \"$NIXEK_IMAGE_EXPR\" --argstr nonce "
        + nonce;
  }

  /** A stand-in for the image's agent jar: evaluations hash it into machines, nothing runs it. */
  Path agentJar() {
    return work.resolve("nixek-agent.jar");
  }

  /** The operator's environment for images in {@code namespace}; {@code extra} wins. */
  Map<String, String> operatorEnv(String namespace, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("NIXEK_OPERATOR_NAMESPACE", "default");
    env.put("NIXEK_WATCH_NAMESPACES", namespace);
    env.put("NIXEK_HEALTH_PORT", "0");
    env.put("NIXEK_POLL_SECONDS", "1");
    env.put("NIXEK_CLUSTER_ID", CLUSTER);
    env.put("NIXEK_LOCAL_STATE_DIR", work.resolve("machines").toString());
    env.put("NIXEK_AWS_REGION", REGION);
    env.put("NIXEK_EC2_ENDPOINT", ec2.endpoint().toString());
    env.put("NIXEK_S3_ENDPOINT", s3.endpoint().toString());
    env.put("NIXEK_S3_PATH_STYLE", "true");
    env.put("NIXEK_IMAGE_BUCKET", BUCKET);
    env.put("NIXEK_IMAGE_NIXPKGS", HOME.resolve("nix/tests/stub-nixpkgs").toString());
    env.put("NIXEK_IMAGE_NIX_DIR", HOME.resolve("nix").toString());
    env.put("NIXEK_IMAGE_AGENT_JAR", agentJar().toString());
    env.put("NIXEK_BUILDER_COMMAND", "java -Xmx256m -jar " + BUILDER_JAR);
    env.put("NIXEK_BUILDER_BUILD_COMMAND", "nix-build --no-out-link --option substituters '' "
        + standInExpression() + " --argstr expr \"$NIXEK_IMAGE_EXPR\"");
    env.put("NIXEK_IMAGE_POLL_MIN_SECONDS", "1");
    env.put("NIXEK_IMAGE_POLL_MAX_SECONDS", "2");
    env.put("NIXEK_IMAGE_GC_INTERVAL_SECONDS", "3600");
    // the binary cache has its own flow test (BinaryCacheFlowIT): here, builds neither push nor substitute
    env.put("NIXEK_CACHE_ENABLED", "false");
    env.putAll(extra);
    return env;
  }

  /** The operator's AWS credentials: s3proxy checks signatures, the EC2 fake takes any. */
  StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey()));
  }

  /**
   * A kubelet for {@code namespace} that gives pods no AWS identity at all (builders upload through the operator's
   * presigned URLs), no binary cache to ask, and a git that trusts the tests' flake repositories. The environment of
   * every process it starts is kept ({@link #launchedEnvironments}), so tests can show what a pod held.
   */
  TestKubelet kubelet(KubernetesClient client, String namespace) {
    // pods run as the image's user; git refuses the tests' repositories (root's) to another user unless told
    Map<String, String> git = PodGitConfig.trustingAll(work);
    return TestKubelet.builder(client).namespace(namespace).onStart(launch -> {
      launch.environment().putAll(git);
      // as a cluster's node would: nothing of the test JVM's own AWS settings reaches a pod
      launch.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
      // no public cache (offline); a pod's own settings (its trust domain's cache) come after and stay
      String podNixConfig = launch.environment().get("NIX_CONFIG");
      launch.environment().put("NIX_CONFIG", "substituters =" + (podNixConfig == null ? "" : "\n" + podNixConfig));
      // Nix remembers narinfo lookups under $XDG_CACHE_HOME: a fresh one per pod, as a pod's empty home is
      launch.environment().put("XDG_CACHE_HOME", podCacheHome(launch.name()).toString());
      launchedEnvironments.put(launch.name(), Map.copyOf(launch.environment()));
    }).start();
  }

  /** A fresh directory any pod user may write: Nix's narinfo cache of one pod. */
  private Path podCacheHome(String pod) {
    try {
      Path dir = Files.createDirectories(work.resolve("xdg-cache").resolve(pod));
      for (Path p : List.of(dir.getParent(), dir)) {
        Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
      }
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The environment of each process the kubelets started, by pod name. */
  final Map<String, Map<String, String>> launchedEnvironments = new java.util.concurrent.ConcurrentHashMap<>();

  /** An image of a machine unique to this run (so that its stand-in build really runs). */
  static NixekMachineImage image(String namespace, String name, String machine) {
    NixekMachineImage image = new NixekMachineImage();
    image.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    NixekMachineImageSpec spec = new NixekMachineImageSpec();
    spec.machine = machine;
    image.setSpec(spec);
    return image;
  }

  /** A machine module no earlier run built. */
  static String uniqueMachine(String what) {
    return "# " + what + " " + UUID.randomUUID() + "\n{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; }\n";
  }

  /** The SHA-256 of an object in s3proxy, read through the S3 protocol. */
  String sha256Of(String bucket, String key) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (InputStream in = new DigestInputStream(s3.s3Client().getObject(r -> r.bucket(bucket).key(key)), digest)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  boolean objectExists(String bucket, String key) {
    return s3.objectLookup().objectSize(bucket, key).isPresent();
  }

  /** Remembers Nix store paths to delete at the end (the stand-ins are unique per run). */
  void built(String... paths) {
    for (String p : paths) {
      if (p != null) {
        storePaths.add(p);
      }
    }
  }

  @Override
  public void close() throws IOException {
    ec2.close();
    s3.close();
    if (!storePaths.isEmpty()) {
      List<String> command = new ArrayList<>(List.of("nix-store", "--delete"));
      command.addAll(storePaths);
      try {
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start().waitFor(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
