package dev.nixek.ci.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubectlNixekTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return KubectlNixek.run(out, new PrintStream(err, true, StandardCharsets.UTF_8), args);
  }

  @Test
  void optionsAndArgumentsParseInAnyOrder() {
    KubectlNixek.Options o = KubectlNixek.parse(new String[] {"logs", "job-1", "-f", "--namespace=ci", "build",
        "--server", "https://reports.example"});
    assertThat(o.command()).isEqualTo("logs");
    assertThat(o.follow()).isTrue();
    assertThat(o.namespace()).isEqualTo("ci");
    assertThat(o.server()).isEqualTo("https://reports.example");
    assertThat(o.positional()).containsExactly("job-1", "build");
    assertThatThrownBy(() -> KubectlNixek.parse(new String[] {"logs", "-x"})).hasMessage("unknown option -x");
    assertThatThrownBy(() -> KubectlNixek.parse(new String[] {"logs", "-n"})).hasMessage("-n needs a value");
  }

  @Test
  void badUsageExitsTwoWithTheUsage() {
    assertThat(run("logs")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("logs takes JOB [STEP]").contains("usage:");
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("--help")).isZero();
  }

  @Test
  void aStepIsANameOrAnIndex() {
    List<String> names = List.of("build", "test", "7");
    assertThat(JobSteps.index(names, "test")).isEqualTo(1);
    assertThat(JobSteps.index(names, "0")).isZero();
    assertThat(JobSteps.index(names, "7")).as("a name wins over an index").isEqualTo(2);
    assertThat(JobSteps.index(names, "3")).isEqualTo(-1);
    assertThat(JobSteps.index(names, "deploy")).isEqualTo(-1);
  }

  @Test
  void aClientCertificateOnlyUserIsToldWhyItCannotReadLogs() throws Exception {
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: https://127.0.0.1:1
        users:
        - name: u
          user:
            client-certificate-data: Y2VydA==
            client-key-data: a2V5
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        """);
    var config = io.fabric8.kubernetes.client.Config.fromKubeconfig(null, Files.readString(kubeconfig),
        kubeconfig.toString());
    assertThat(UserToken.of(config)).isEmpty();
    assertThat(UserToken.whyNone(config)).contains("client certificate only").contains("TokenReview");
  }
}
