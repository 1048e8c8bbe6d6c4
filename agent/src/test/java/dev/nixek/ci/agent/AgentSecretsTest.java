package dev.nixek.ci.agent;

import static dev.nixek.ci.agent.TestJobs.config;
import static dev.nixek.ci.agent.TestJobs.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.StepSecret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent (its Main, in this JVM) fetching a job's secrets from a fake report API over HTTP (docs/secrets.md). */
class AgentSecretsTest {
  private static final String VALUE = "deploy-key-0123456789abcdef";
  private static final String FILE_VALUE = "-----BEGIN KEY-----\nZm9vYmFy\n-----END KEY-----\n";

  @TempDir
  Path dir;
  String token;
  FakeReportApi api;

  @BeforeEach
  void startApi() throws Exception {
    token = TestJobs.token();
    api = new FakeReportApi(token, TestJobs.NAMESPACE, TestJobs.NAME);
  }

  @AfterEach
  void stopApi() {
    api.close();
  }

  private static AgentStep withSecrets(String name, String script, StepSecret... secrets) {
    return new AgentStep(name, script, null, null, null, List.of(secrets));
  }

  @Test
  void secretsReachTheirStepAsEnvAndFileMaskedInEveryLaterStepAndTheFilesGoAfterTheJob() throws Exception {
    api.serveSecrets(Map.of("deploy/key", (VALUE + "\n").getBytes(StandardCharsets.UTF_8),
        "tls/cert", FILE_VALUE.getBytes(StandardCharsets.UTF_8)), 1);
    String b64 = Base64.getEncoder().encodeToString(VALUE.getBytes(StandardCharsets.UTF_8));
    var agent = TestJobs.start(dir, config(api.url(), token,
        run("no secrets yet", "echo before"),
        withSecrets("uses them",
            // the value, its base64, and the value written in two pieces around a flush (a chunk boundary)
            "echo \"v=$DEPLOY_KEY\"; printf '%s' \"$DEPLOY_KEY\" | base64; "
                + "printf '%s' \"$DEPLOY_KEY\" | head -c 10; sleep 0.3; printf '%s\\n' \"$DEPLOY_KEY\" | tail -c +11; "
                + "test \"$(cat \"$NIXEK_SECRETS_DIR/CERT\")\" = \"$(printf '%s' '" + FILE_VALUE.strip() + "')\" "
                + "&& echo file-ok; stat -c '%a' \"$NIXEK_SECRETS_DIR/CERT\"; echo \"$NIXEK_SECRETS_DIR\" > "
                + "secrets-dir.txt; case \"$NIXEK_SECRETS_DIR\" in \"$PWD\"*) echo inside-work-dir;; esac",
            new StepSecret("DEPLOY_KEY", "deploy/key", "env"), new StepSecret("CERT", "tls/cert", "file")),
        run("later step", "echo \"later $(cat secrets-dir.txt | xargs ls 2>/dev/null | wc -l) ${DEPLOY_KEY:-unset}\"; "
            + "echo " + VALUE)));
    assertThat(agent.get(60, TimeUnit.SECONDS)).isZero();
    assertThat(api.violations()).isEmpty();
    assertThat(api.secretFetches()).as("one 503, then served").isEqualTo(2);
    assertThat(api.output(0)).isEqualTo("before\n");
    String out = api.output(1);
    assertThat(out).contains("v=***").contains("file-ok").contains("400\n").doesNotContain("inside-work-dir")
        .doesNotContain(VALUE).doesNotContain(b64).doesNotContain(VALUE.substring(0, 10));
    // the value split across two writes (two chunks of the pump) still comes out as one mask
    assertThat(out.lines().filter(l -> l.equals("***")).count()).isGreaterThanOrEqualTo(2);
    // a later step: no files left from the step before, no variable, and the value masked all the same
    assertThat(api.output(2)).isEqualTo("later 0 unset\n***\n");
    Path secretsDir = Path.of(Files.readString(dir.resolve("work").resolve("secrets-dir.txt")).strip());
    assertThat(secretsDir).doesNotExist();
  }

  /**
   * With {@code --run-as}, the secrets directory (0700) and its files (0400) belong to the step's user, who can read
   * them. Switching users needs root: a JVM that is not root skips this test.
   */
  @Test
  void underRunAsTheSecretFilesBelongToTheStepUser() throws Exception {
    requireRoot();
    api.serveSecrets(Map.of("tls/cert", FILE_VALUE.getBytes(StandardCharsets.UTF_8)), 0);
    var agent = TestJobs.start(dir, config(api.url(), token,
        withSecrets("reads", "id -un; stat -c '%U %a' \"$NIXEK_SECRETS_DIR\" \"$NIXEK_SECRETS_DIR/CERT\"; "
            + "wc -c < \"$NIXEK_SECRETS_DIR/CERT\"", new StepSecret("CERT", "tls/cert", "file"))),
        "--run-as", "nobody");

    assertThat(agent.get(60, TimeUnit.SECONDS)).as(api.output(0)).isZero();
    assertThat(api.output(0)).isEqualTo("nobody\nnobody 700\nnobody 400\n"
        + FILE_VALUE.getBytes(StandardCharsets.UTF_8).length + "\n");
  }

  /** Skips without root. */
  static void requireRoot() throws Exception {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (uid.equals("0")) {
      return;
    }
    // like AgentTest's run-as test: skipped, and counted as skipped, where the suite does not run as root (it does
    // on the development machine; a JVM that is not root cannot switch users)
    org.junit.jupiter.api.Assumptions.assumeTrue(false, "skipped: switching users needs root (uid " + uid + ")");
  }

  @Test
  void aStepWhoseSecretsAreRefusedIsNotRunAndSaysWhy() throws Exception {
    api.refuse();
    var agent = TestJobs.start(dir, config(api.url(), token,
        withSecrets("needs one", "touch ran", new StepSecret("X", "a/b", "env"))));
    assertThat(agent.get(60, TimeUnit.SECONDS)).isNotZero();
    assertThat(api.secretFetches()).as("401 is final: no retry").isEqualTo(1);
    assertThat(dir.resolve("work").resolve("ran")).doesNotExist();
  }
}
