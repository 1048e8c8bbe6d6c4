package dev.nixek.ci.e2e.artifacts;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekArtifactStatus;
import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekJobArtifact;
import dev.nixek.ci.api.v1alpha1.NixekJobStep;
import dev.nixek.ci.cli.KubectlNixek;
import dev.nixek.ci.common.logs.ArtifactOptions;
import dev.nixek.ci.common.logs.ArtifactRef;
import dev.nixek.ci.common.logs.ArtifactStore;
import dev.nixek.ci.common.logs.ArtifactStores;
import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Artifacts out of steps (docs/artifacts.md), with the real agent, the report API process, a real API server and
 * s3proxy: a 200 MB file of a failed step round-trips byte for byte through a presigned PUT and {@code kubectl nixek
 * artifacts}; a symlink escaping the working directory is refused and listed with its reason; the job limit refuses
 * a file with a clear error; a presigned URL stops working when it expires; the download needs RBAC (403) and a
 * token (401); deleting the job deletes its artifacts. The same with the embedded default's local store, through the
 * report API's own signed URL.
 */
@ExtendWith(KubeApiServerExtension.class)
class ArtifactsE2E {
  private static final int BIG = 200_000_000;

  @TempDir
  Path work;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    ManifestsIT.installCrds(server);
  }

  @Test
  void twoHundredMegabytesRoundTripThroughS3proxyAndGoWithTheJob(KubeApiServer server, TestNamespace ns)
      throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start().createBucket("ci-logs")) {
      Map<String, String> store = Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "ci-logs",
          "NIXEK_LOG_S3_PREFIX", "logs/e2e/", "NIXEK_LOG_S3_REGION", "us-east-1",
          "NIXEK_LOG_S3_ENDPOINT", s3.endpoint().toString(), "NIXEK_ARTIFACT_S3_PREFIX", "artifacts/e2e/");
      var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey()));
      String keyProperty = System.setProperty("aws.accessKeyId", s3.accessKey());
      String secretProperty = System.setProperty("aws.secretAccessKey", s3.secretKey());
      Map<String, String> reportEnv = new HashMap<>(store);
      reportEnv.put("AWS_ACCESS_KEY_ID", s3.accessKey());
      reportEnv.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
      reportEnv.put("NIXEK_ARTIFACT_JOB_LIMIT_BYTES", "210000000");
      try (ArtifactStore artifacts = ArtifactStores.open(LogStoreOptions.fromEnv(store),
              ArtifactOptions.fromEnv(store), credentials);
          Stack stack = stack(server, ns, "s3", store, reportEnv)) {
        roundTrip(server, ns, stack, artifacts, BIG, true);
        presignedUrlsExpire(artifacts);
      } finally {
        restore("aws.accessKeyId", keyProperty);
        restore("aws.secretAccessKey", secretProperty);
      }
    }
  }

  @Test
  void theLocalStoreTakesUploadsAtTheReportApisSignedUrl(KubeApiServer server, TestNamespace ns) throws Exception {
    Map<String, String> store = Map.of("NIXEK_LOG_STORE", "local", "NIXEK_LOG_DIR", work.resolve("logs").toString());
    Map<String, String> reportEnv = new HashMap<>(store);
    reportEnv.put("NIXEK_ARTIFACT_JOB_LIMIT_BYTES", "15000000");
    try (ArtifactStore artifacts = ArtifactStores.open(LogStoreOptions.fromEnv(store), ArtifactOptions.defaults());
        Stack stack = stack(server, ns, "local", store, reportEnv)) {
      roundTrip(server, ns, stack, artifacts, 10_000_000, false);
    }
  }

  private void roundTrip(KubeApiServer server, TestNamespace ns, Stack stack, ArtifactStore artifacts, int size,
      boolean s3) throws Exception {
    KubernetesClient client = server.client();
    Path source = work.resolve("big.src");
    byte[] data = new byte[size];
    new Random(42).nextBytes(data);
    Files.write(source, data);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    data = null;

    // a failed step's artifacts are kept too; the extra file passes the job limit (the big one and 10-20 MB more)
    NixekJobStep step = run("build", "cp " + source + " big.bin && mkdir -p dist && echo small > dist/small.txt"
        + " && ln -s " + source + " dist/escape.txt && head -c 20000000 /dev/zero > extra.bin && exit 3");
    step.artifacts = List.of(artifact("big", "big.bin"), artifact("dist", "dist/*"), artifact("extra", "extra.bin"));
    NixekJob created = client.resources(NixekJob.class).inNamespace(ns.name())
        .resource(job(ns.name(), "arts", step)).create();
    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
        .until(() -> Conditions.isTerminal(get(client, ns.name()).getStatus()));
    NixekJob done = get(client, ns.name());
    assertThat(done.getStatus().steps.get(0).exitCode).isEqualTo(3);
    List<NixekArtifactStatus> listed = done.getStatus().steps.get(0).artifacts;
    assertThat(listed).as("%s", listed).hasSize(4);
    NixekArtifactStatus big = find(listed, "big.bin");
    assertThat(big.size).isEqualTo((long) size);
    assertThat(big.sha256).isEqualTo(sha);
    assertThat(big.error).isNull();
    assertThat(find(listed, "dist/small.txt").size).isEqualTo(6L);
    assertThat(find(listed, "dist/escape.txt").error).contains("symlink escaping the working directory");
    assertThat(find(listed, "dist/escape.txt").size).isNull();
    assertThat(find(listed, "extra.bin").error).contains("artifact_limit").contains("NIXEK_ARTIFACT_JOB_LIMIT_BYTES");

    JobLogs job = new JobLogs(ns.name(), "arts", created.getMetadata().getUid());
    assertThat(artifacts.list(job)).extracting(a -> a.ref().path()).containsExactlyInAnyOrder("big.bin",
        "dist/small.txt");

    grant(client, ns.name());
    Path reader = server.kubeconfigFor(ns.name(), "reader");
    Path out = Files.createDirectories(work.resolve("download-" + (s3 ? "s3" : "local")));
    Cli listing = cli("artifacts", "-n", ns.name(), "--kubeconfig", reader.toString(), "arts");
    assertThat(listing.code).as(listing.err).isZero();
    assertThat(listing.out).contains(sha).contains("big.bin").contains("dist/small.txt").doesNotContain("escape");
    long started = System.nanoTime();
    Cli download = cli("artifacts", "-n", ns.name(), "--kubeconfig", reader.toString(), "-o", out.toString(), "arts",
        "big");
    long millis = (System.nanoTime() - started) / 1_000_000;
    assertThat(download.code).as(download.err).isZero();
    assertThat(Files.mismatch(out.resolve("big.bin"), source)).as("byte-identical").isEqualTo(-1L);
    System.out.printf("artifacts e2e (%s): %d bytes downloaded through the report API in %d ms%n",
        s3 ? "s3proxy" : "local", size, millis);

    Cli stranger = cli("artifacts", "-n", ns.name(), "--kubeconfig",
        server.kubeconfigFor(ns.name(), "stranger").toString(), "-o", out.resolve("x").toString(), "arts", "big");
    assertThat(stranger.code).isEqualTo(1);
    assertThat(stranger.err).contains("403").contains("nixekjobs/artifacts");
    HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(stack.reportUrl() + "/v1/artifacts/" + ns.name() + "/arts")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);

    client.resources(NixekJob.class).inNamespace(ns.name()).withName("arts").delete();
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      assertThat(artifacts.list(job)).isEmpty();
      assertThat(artifacts.jobs()).extracting(j -> j.job()).doesNotContain(job);
    });
  }

  /** An upload URL works while it is valid and not after: s3proxy checks the presigned expiry. */
  private static void presignedUrlsExpire(ArtifactStore artifacts) throws Exception {
    byte[] bytes = "expiring\n".getBytes(StandardCharsets.UTF_8);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    JobLogs job = new JobLogs("expiry", "job", "uid-expiry");
    ArtifactRef ref = new ArtifactRef(job, 0, "a", "a.txt");
    var fresh = artifacts.prepare(ref, bytes.length, sha, Duration.ofMinutes(1));
    var shortLived = artifacts.prepare(ref, bytes.length, sha, Duration.ofSeconds(1));
    Thread.sleep(2500);
    assertThat(put(shortLived, bytes)).as("expired URL").isEqualTo(403);
    assertThat(put(fresh, bytes)).as("valid URL").isEqualTo(200);
    artifacts.commit(ref, bytes.length, sha);
    try (var d = artifacts.open(ref).orElseThrow(); InputStream in = d.in()) {
      assertThat(in.readAllBytes()).isEqualTo(bytes);
    }
    artifacts.delete(job);
  }

  private static int put(ArtifactStore.UploadTarget target, byte[] bytes) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.url()))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
    target.headers().forEach(b::header);
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static NixekJobArtifact artifact(String name, String... paths) {
    NixekJobArtifact a = new NixekJobArtifact();
    a.name = name;
    a.paths = List.of(paths);
    return a;
  }

  private static NixekArtifactStatus find(List<NixekArtifactStatus> listed, String path) {
    return listed.stream().filter(a -> a.path.equals(path)).findFirst().orElseThrow(() ->
        new AssertionError("no " + path + " in " + listed.stream().map(a -> a.path).toList()));
  }

  /** reader: get nixekjobs and nixekjobs/artifacts; stranger: get nixekjobs only. */
  private static void grant(KubernetesClient client, String ns) {
    role(client, ns, "artifact-reader", "reader", List.of("nixekjobs", "nixekjobs/artifacts"));
    role(client, ns, "job-viewer", "stranger", List.of("nixekjobs"));
  }

  private static void role(KubernetesClient client, String ns, String role, String sa, List<String> resources) {
    client.rbac().roles().inNamespace(ns).resource(new RoleBuilder().withNewMetadata().withName(role).endMetadata()
        .withRules(new PolicyRuleBuilder().withApiGroups("ci.nixek.dev").withResources(resources).withVerbs("get")
            .build()).build()).createOr(r -> r.update());
    client.rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder().withNewMetadata().withName(role)
        .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", role)
        .addNewSubject().withKind("ServiceAccount").withName(sa).withNamespace(ns).endSubject().build())
        .createOr(r -> r.update());
  }

  private record Cli(int code, String out, String err) {}

  private static Cli cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = KubectlNixek.run(out, new PrintStream(err, true, StandardCharsets.UTF_8), args);
    return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Stack stack(KubeApiServer server, TestNamespace ns, String name, Map<String, String> store,
      Map<String, String> reportEnv) throws Exception {
    Path dir = Files.createDirectories(work.resolve("stack-" + name));
    Map<String, String> operatorEnv = new HashMap<>(store);
    operatorEnv.put("NIXEK_WATCH_NAMESPACES", ns.name());
    return Stack.start(server.client(), server.kubeconfig(), dir, true,
        new Stack.Options(operatorEnv, reportEnv, 0, null, null));
  }

  private static NixekJob get(KubernetesClient client, String ns) {
    return client.resources(NixekJob.class).inNamespace(ns).withName("arts").get();
  }

  private static void restore(String property, String old) {
    if (old == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, old);
    }
  }
}
