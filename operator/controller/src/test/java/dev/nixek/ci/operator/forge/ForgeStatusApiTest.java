package dev.nixek.ci.operator.forge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.operator.forge.ForgeStatusApi.Verdict;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The status call in each forge's documented shape, against a real HTTP server, and how answers are classified. */
class ForgeStatusApiTest {
  static final String SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
  static final String TOKEN = "ghp_0123456789abcdefTOKEN";

  FakeForge forge;
  final ForgeStatusApi api = new ForgeStatusApi(Duration.ofSeconds(5));

  @BeforeEach
  void start() throws Exception {
    forge = new FakeForge();
  }

  @AfterEach
  void stop() {
    forge.close();
  }

  private ForgeTarget github() {
    return new ForgeTarget("github", forge.url(""), "octo-org/hello-world", SHA, TOKEN);
  }

  private ForgeTarget gitea() {
    return new ForgeTarget("gitea", forge.url("/api/v1/"), "octo-org/hello-world", SHA, TOKEN);
  }

  @Test
  void gitHubGetsPostReposOwnerRepoStatusesShaWithABearerTokenAndItsMediaType() throws Exception {
    var answer = api.post(github(), new CommitStatus("failure", "step 'build' failed with exit code 2",
        "nixek-ci/hello", "https://ci.example.com/jobs/1"));

    assertThat(answer.verdict()).isEqualTo(Verdict.POSTED);
    var r = forge.requests().get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(r.path()).isEqualTo("/repos/octo-org/hello-world/statuses/" + SHA);
    assertThat(r.header("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(r.header("Accept")).isEqualTo("application/vnd.github+json");
    assertThat(r.header("X-GitHub-Api-Version")).isEqualTo("2022-11-28");
    assertThat(r.header("Content-Type")).isEqualTo("application/json");
    assertThat(r.body().get("state").asText()).isEqualTo("failure");
    assertThat(r.body().get("description").asText()).isEqualTo("step 'build' failed with exit code 2");
    assertThat(r.body().get("context").asText()).isEqualTo("nixek-ci/hello");
    assertThat(r.body().get("target_url").asText()).isEqualTo("https://ci.example.com/jobs/1");
    assertThat(r.body().size()).isEqualTo(4);
  }

  @Test
  void giteaGetsPostApiV1ReposOwnerRepoStatusesShaWithATokenAuthorization() throws Exception {
    var answer = api.post(gitea(), new CommitStatus("pending", "nixek-ci job hello", "nixek-ci/hello", null));

    assertThat(answer.verdict()).isEqualTo(Verdict.POSTED);
    var r = forge.requests().get(0);
    assertThat(r.path()).isEqualTo("/api/v1/repos/octo-org/hello-world/statuses/" + SHA);
    assertThat(r.header("Authorization")).isEqualTo("token " + TOKEN);
    assertThat(r.body().get("state").asText()).isEqualTo("pending");
    assertThat(r.body().has("target_url")).isFalse();
  }

  @Test
  void outagesAndRateLimitsAreRetriedAndRefusalsAreNot() throws Exception {
    CommitStatus s = new CommitStatus("success", "ok", "nixek-ci/hello", null);
    forge.failWith(503, Map.of());
    assertThat(api.post(github(), s).verdict()).isEqualTo(Verdict.RETRY);
    forge.failWith(429, Map.of());
    assertThat(api.post(github(), s).verdict()).isEqualTo(Verdict.RETRY);
    forge.failWith(403, Map.of("X-RateLimit-Remaining", "0"));
    assertThat(api.post(github(), s).verdict()).isEqualTo(Verdict.RETRY);
    forge.failWith(403, Map.of());
    assertThat(api.post(github(), s).verdict()).isEqualTo(Verdict.REFUSED);
    forge.failWith(422, Map.of());
    var refused = api.post(github(), s);
    assertThat(refused.verdict()).isEqualTo(Verdict.REFUSED);
    assertThat(refused.status()).isEqualTo(422);
    forge.stop();
    assertThat(api.post(github(), s).verdict()).isEqualTo(Verdict.RETRY);
  }

  @Test
  void aDescriptionIsOneLineOfAtMost140Characters() {
    String longName = "x".repeat(300);
    CommitStatus s = new CommitStatus("failure", "step '" + longName + "'\nfailed", "nixek-ci/a", null);
    assertThat(s.description().codePointCount(0, s.description().length())).isEqualTo(140);
    assertThat(s.description()).doesNotContain("\n").endsWith("…");
    assertThat(new CommitStatus("error", "Cancelled:\tby\r\nthe user", "c", null).description())
        .isEqualTo("Cancelled: by the user");
  }
}
