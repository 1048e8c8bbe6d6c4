package dev.nixek.ci.e2e.logs;

import static dev.nixek.ci.operator.testing.TestJobs.job;
import static dev.nixek.ci.operator.testing.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStoreOptions;
import dev.nixek.ci.common.logs.LogStores;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.status.Conditions;
import dev.nixek.ci.e2e.ManifestsIT;
import dev.nixek.ci.e2e.Stack;
import dev.nixek.ci.testing.aws.s3.S3ProxyServer;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Every byte a step prints, kept (docs/logs.md): the real agent runs a step that prints 50 MB — random bytes, UTF-8
 * in megabyte-long lines, and UTF-8 without a single newline — through the report API process into the log store,
 * local and on s3proxy; the stored log's SHA-256 is the printed bytes'. Killing the report API in the middle of a step
 * and starting it again loses nothing either.
 */
@ExtendWith(KubeApiServerExtension.class)
class LargeStepLogE2E {
  private static final int MB = 1_000_000;

  @TempDir
  Path work;

  @BeforeAll
  static void crds(KubeApiServer server) throws Exception {
    ManifestsIT.installCrds(server);
  }

  @Test
  void fiftyMegabytesAreStoredByteForByteInTheLocalStore(KubeApiServer server, TestNamespace ns) throws Exception {
    Map<String, String> store = Map.of("NIXEK_LOG_STORE", "local", "NIXEK_LOG_DIR",
        work.resolve("logs").toString());
    try (LogStore logs = LogStores.open(LogStoreOptions.fromEnv(store))) {
      printsFiftyMegabytes(server, ns, store, Map.of(), logs);
    }
  }

  @Test
  void fiftyMegabytesAreStoredByteForByteOnS3AcrossAReportApiRestart(KubeApiServer server, TestNamespace ns)
      throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start().createBucket("ci-logs")) {
      Map<String, String> store = Map.of("NIXEK_LOG_STORE", "s3", "NIXEK_LOG_S3_BUCKET", "ci-logs",
          "NIXEK_LOG_S3_PREFIX", "logs/e2e/", "NIXEK_LOG_S3_REGION", "us-east-1",
          "NIXEK_LOG_S3_ENDPOINT", s3.endpoint().toString());
      // the report API process reads its credentials from the environment; the operator (in this JVM) from these
      String keyProperty = System.setProperty("aws.accessKeyId", s3.accessKey());
      String secretProperty = System.setProperty("aws.secretAccessKey", s3.secretKey());
      try (LogStore logs = LogStores.open(LogStoreOptions.fromEnv(store), StaticCredentialsProvider.create(
          AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))) {
        printsFiftyMegabytes(server, ns, store, Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(),
            "AWS_SECRET_ACCESS_KEY", s3.secretKey()), logs);
        restartMidStepLosesNothing(server, ns, store, Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(),
            "AWS_SECRET_ACCESS_KEY", s3.secretKey()), logs);
      } finally {
        restore("aws.accessKeyId", keyProperty);
        restore("aws.secretAccessKey", secretProperty);
      }
    }
  }

  private void printsFiftyMegabytes(KubeApiServer server, TestNamespace ns, Map<String, String> store,
      Map<String, String> reportEnv, LogStore logs) throws Exception {
    Path data = work.resolve("fifty.out");
    byte[] sha = write(data, 50 * MB);
    try (Stack stack = stack(server, ns, "big", store, reportEnv)) {
      NixekJob created = create(server.client(), ns.name(), "big", "cat " + data);
      NixekJob done = awaitSucceeded(server.client(), ns.name(), "big");
      NixekStepStatus step = done.getStatus().steps.get(0);
      assertThat(step.outputBytes).isEqualTo(50L * MB);
      assertThat(stored(logs, created)).as("SHA-256 of the stored log").isEqualTo(HexFormat.of().formatHex(sha));
    }
  }

  private void restartMidStepLosesNothing(KubeApiServer server, TestNamespace ns, Map<String, String> store,
      Map<String, String> reportEnv, LogStore logs) throws Exception {
    Path first = work.resolve("first.out");
    Path second = work.resolve("second.out");
    MessageDigest both = MessageDigest.getInstance("SHA-256");
    both.update(Files.readAllBytes(writeAndReturn(first, 5 * MB, 11)));
    both.update(Files.readAllBytes(writeAndReturn(second, 5 * MB, 12)));
    Path go = work.resolve("go");
    try (Stack stack = stack(server, ns, "restart", store, reportEnv)) {
      // the step prints half, waits for the test to kill and restart the report API, then prints the rest
      NixekJob created = create(server.client(), ns.name(), "restart",
          "cat " + first + "; while [ ! -e " + go + " ]; do sleep 0.2; done; cat " + second);
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        NixekJob j = get(server.client(), ns.name(), "restart");
        return j != null && j.getStatus() != null && j.getStatus().steps != null
            && j.getStatus().steps.get(0).outputBytes != null && j.getStatus().steps.get(0).outputBytes == 5L * MB;
      });
      stack.killReportApi();
      Files.writeString(go, "");
      Thread.sleep(2000);
      stack.startReportApi();
      NixekJob done = awaitSucceeded(server.client(), ns.name(), "restart");
      assertThat(done.getStatus().steps.get(0).outputBytes).isEqualTo(10L * MB);
      assertThat(stored(logs, created)).isEqualTo(HexFormat.of().formatHex(both.digest()));
    }
  }

  private Stack stack(KubeApiServer server, TestNamespace ns, String name, Map<String, String> store,
      Map<String, String> reportEnv) throws Exception {
    Path dir = Files.createDirectories(work.resolve("stack-" + name));
    Map<String, String> operatorEnv = new HashMap<>(store);
    operatorEnv.put("NIXEK_WATCH_NAMESPACES", ns.name());
    Map<String, String> report = new HashMap<>(store);
    report.putAll(reportEnv);
    return Stack.start(server.client(), server.kubeconfig(), dir, true,
        new Stack.Options(operatorEnv, report, 0, null, null));
  }

  /** The stored log's SHA-256, read back through the store. */
  private static String stored(LogStore logs, NixekJob job) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    OutputStream digesting = new OutputStream() {
      @Override
      public void write(int b) {
        sha.update((byte) b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        sha.update(b, off, len);
      }
    };
    logs.read(new StepLog(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getMetadata().getUid(),
        0), 0, Long.MAX_VALUE, digesting);
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * A third random bytes, a third UTF-8 in lines of a megabyte (characters of 1 to 4 bytes, so chunks split them),
   * a third UTF-8 without a newline; returns the SHA-256.
   */
  private static byte[] write(Path file, int size) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(writeAndReturn(file, size, 7)));
  }

  private static Path writeAndReturn(Path file, int size, long seed) throws IOException {
    Random random = new Random(seed);
    byte[] out = new byte[size];
    int third = size / 3;
    byte[] binary = new byte[third];
    random.nextBytes(binary);
    System.arraycopy(binary, 0, out, 0, third);
    String[] chars = {"a", "é", "✓", "🚀", " "};
    java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream(size);
    while (text.size() < size - third) {
      StringBuilder line = new StringBuilder();
      while (line.length() < 400_000) {
        line.append(chars[random.nextInt(chars.length)]);
      }
      text.writeBytes(line.toString().getBytes(StandardCharsets.UTF_8));
      // lines of about a megabyte in the first half of the text, none in the second
      if (text.size() < (size - third) / 2) {
        text.write('\n');
      }
    }
    byte[] utf8 = text.toByteArray();
    System.arraycopy(utf8, 0, out, third, size - third);
    Files.write(file, out);
    return file;
  }

  private static NixekJob create(KubernetesClient client, String ns, String name, String script) {
    return client.resources(NixekJob.class).inNamespace(ns).resource(job(ns, name, run("print", script))).create();
  }

  private static NixekJob get(KubernetesClient client, String ns, String name) {
    return client.resources(NixekJob.class).inNamespace(ns).withName(name).get();
  }

  private static NixekJob awaitSucceeded(KubernetesClient client, String ns, String name) {
    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500))
        .until(() -> get(client, ns, name) != null && Conditions.isTerminal(get(client, ns, name).getStatus()));
    NixekJob done = get(client, ns, name);
    assertThat(Conditions.find(done.getStatus().conditions, Conditions.SUCCEEDED).orElseThrow().getReason())
        .as("%s", done.getStatus().conditions).isEqualTo("Succeeded");
    return done;
  }

  private static void restore(String property, String old) {
    if (old == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, old);
    }
  }
}
