package dev.nixek.ci.testing.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real Gitea the forge tests use: it starts, takes a push over HTTP with the token, keeps hooks and statuses. */
class GiteaServerIT {
  private static GiteaServer gitea;

  @BeforeAll
  static void start() {
    gitea = GiteaServer.start();
  }

  @AfterAll
  static void stop() {
    if (gitea != null) {
      gitea.close();
    }
  }

  @Test
  void pushHooksAndStatuses(@TempDir Path work) throws Exception {
    GiteaServer.Repo repo = gitea.createRepo("smoke", true);
    assertThat(repo.cloneUrl()).startsWith(gitea.url());
    String sha = gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("README.md", "hello\n"), "first");
    assertThat(sha).matches("[0-9a-f]{40}");
    // the token went nowhere on disk: not in the work tree's git config
    assertThat(Files.readString(work.resolve("wt/.git/config"))).doesNotContain(gitea.token());

    // a private repository refuses an anonymous clone and takes the token's
    CommandResult anonymous = Processes.run(java.util.List.of("git", "ls-remote", repo.cloneUrl()),
        Map.of("GIT_TERMINAL_PROMPT", "0", "GIT_ASKPASS", "/bin/false"), null, java.time.Duration.ofSeconds(30));
    assertThat(anonymous.ok()).isFalse();
    assertThat(gitea.git(work.resolve("wt"), "ls-remote", "origin", "refs/heads/main").stdout()).startsWith(sha);

    long hook = gitea.addWebhook(repo, "gitea", "http://127.0.0.1:9/v1/webhooks/ci/smoke", "s3cret");
    assertThat(hook).isPositive();
    gitea.setWebhookActive(repo, hook, false);
    assertThat(gitea.api("GET", "repos/" + repo.fullName() + "/hooks/" + hook, null, 200).path("active").asBoolean())
        .isFalse();

    ObjectMapper json = new ObjectMapper();
    gitea.api("POST", "repos/" + repo.fullName() + "/statuses/" + sha, json.createObjectNode()
        .put("state", "failure").put("context", "nixek-ci/fails").put("description", "step 1 exited 1"), 201);
    assertThat(gitea.statuses(repo, sha)).singleElement().satisfies(s -> {
      assertThat(s.context()).isEqualTo("nixek-ci/fails");
      assertThat(s.state()).isEqualTo("failure");
      assertThat(s.description()).isEqualTo("step 1 exited 1");
    });
  }
}
