package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.nixek.ci.testing.kube.GiteaServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Gitea delivers its webhooks to a real report API: Gitea signs with X-Hub-Signature-256 and sends GitHub's
 * event and delivery headers as well as its own, so the endpoint takes it as it takes GitHub. A hook with the wrong
 * secret is refused and nudges nothing; a disabled hook delivers nothing.
 */
class WebhookGiteaIT {
  private static final String SECRET = "gitea-hook-secret";

  @Test
  void giteaPushNudgesTheRepository(@TempDir Path work) throws Exception {
    try (GiteaServer gitea = GiteaServer.start(); WebhookFixture fx = new WebhookFixture(Map.of())) {
      GiteaServer.Repo repo = gitea.createRepo("hello", false);
      fx.repository(WebhookFixture.NS, "hello", SECRET, List.of("main"), true, false);
      String url = "http://127.0.0.1:" + fx.port + "/v1/webhooks/" + WebhookFixture.NS + "/hello";

      long wrong = gitea.addWebhook(repo, "gitea", url, "not-" + SECRET);
      String first = gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("README.md", "one\n"), "one");
      assertThat(first).matches("[0-9a-f]{40}");
      // Gitea delivered (its delivery timeout is 5 s) and was refused: nothing recorded
      Thread.sleep(3_000);
      assertThat(fx.webhookStatus(WebhookFixture.NS, "hello")).isNull();
      gitea.setWebhookActive(repo, wrong, false);

      long hook = gitea.addWebhook(repo, "gitea", url, SECRET);
      gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("README.md", "two\n"), "two");
      await().atMost(Duration.ofSeconds(30)).until(() -> fx.webhookStatus(WebhookFixture.NS, "hello") != null);
      Map<String, Object> w = fx.webhookStatus(WebhookFixture.NS, "hello");
      assertThat(w).containsEntry("event", "push").containsEntry("ref", "refs/heads/main");
      assertThat((String) w.get("deliveryId")).isNotBlank();
      assertThat(fx.api.webhookNudges().written()).isEqualTo(1);

      // a push to a branch the repository does not build is answered "ignored": no second nudge
      gitea.commitAndPush(repo, work.resolve("wt"), "wip", Map.of("README.md", "wip\n"), "wip");
      // a disabled hook delivers nothing
      gitea.setWebhookActive(repo, hook, false);
      gitea.commitAndPush(repo, work.resolve("wt"), "main", Map.of("README.md", "three\n"), "three");
      Thread.sleep(3_000);
      assertThat(fx.api.webhookNudges().written()).as(gitea.logTail()).isEqualTo(1);
      assertThat(fx.webhookStatus(WebhookFixture.NS, "hello")).containsEntry("deliveryId", w.get("deliveryId"));
    }
  }
}
