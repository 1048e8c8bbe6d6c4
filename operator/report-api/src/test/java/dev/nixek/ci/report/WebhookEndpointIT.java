package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Deliveries that nudge: the status written, once per delivery id, never waited for. */
class WebhookEndpointIT {
  private static final String SECRET = "It's a Secret to Everybody";

  @Test
  void pushIsAcceptedAndRecordedOnce() throws Exception {
    try (WebhookFixture fx = new WebhookFixture(Map.of())) {
      fx.repository(WebhookFixture.NS, "hello", SECRET, List.of(), true, false);
      byte[] body = WebhookFixture.resource("push.json");
      Map<String, String> headers = WebhookFixture.github("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958", SECRET,
          body);
      Instant before = Instant.now().minusSeconds(1);
      HttpResponse<String> r = fx.post(WebhookFixture.NS, "hello", headers, body);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      assertThat(r.body()).contains("\"accepted\"");
      await().atMost(Duration.ofSeconds(10)).until(() -> fx.webhookStatus(WebhookFixture.NS, "hello") != null);
      Map<String, Object> w = fx.webhookStatus(WebhookFixture.NS, "hello");
      assertThat(w).containsEntry("deliveryId", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
          .containsEntry("event", "push").containsEntry("ref", "refs/heads/main");
      assertThat(Instant.parse((String) w.get("receivedAt"))).isAfter(before);
      // the operator's field is untouched by the nudge
      Map<?, ?> status = (Map<?, ?>) fx.get(WebhookFixture.NS, "hello").getAdditionalProperties().get("status");
      assertThat(status.get("sealedWebhookSecret")).isNotNull();
      assertThat(status.toString()).doesNotContain(SECRET);

      // the forge's redelivery: answered, not recorded again
      HttpResponse<String> again = fx.post(WebhookFixture.NS, "hello", headers, body);
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(again.body()).contains("\"duplicate\"");
      Thread.sleep(100);
      assertThat(fx.api.webhookNudges().written()).isEqualTo(1);
    }
  }

  @Test
  void pingPullRequestsAndGiteaHeaders() throws Exception {
    try (WebhookFixture fx = new WebhookFixture(Map.of())) {
      fx.repository(WebhookFixture.NS, "hello", SECRET, List.of("main"), true, false);
      byte[] ping = WebhookFixture.resource("ping.json");
      HttpResponse<String> pong = fx.post(WebhookFixture.NS, "hello",
          WebhookFixture.github("ping", "ping-1", SECRET, ping), ping);
      assertThat(pong.statusCode()).isEqualTo(200);
      assertThat(pong.body()).contains("\"pong\"");
      Thread.sleep(100);
      assertThat(fx.webhookStatus(WebhookFixture.NS, "hello")).isNull();

      for (String file : new String[] {"pull_request-opened.json", "pull_request-synchronize.json"}) {
        byte[] pr = WebhookFixture.resource(file);
        HttpResponse<String> r = fx.post(WebhookFixture.NS, "hello",
            WebhookFixture.github("pull_request", "pr-" + file, SECRET, pr), pr);
        assertThat(r.statusCode()).as(file + ": " + r.body()).isEqualTo(202);
        assertThat(r.body()).contains("\"accepted\"");
        await().atMost(Duration.ofSeconds(10)).until(() -> {
          Map<String, Object> w = fx.webhookStatus(WebhookFixture.NS, "hello");
          return w != null && ("pr-" + file).equals(w.get("deliveryId"));
        });
        assertThat(fx.webhookStatus(WebhookFixture.NS, "hello")).containsEntry("ref", "refs/pull/7/head")
            .containsEntry("event", "pull_request");
      }

      // Gitea's own headers alone (a Gitea-type hook sends GitHub's as well; a Gogs-type one does not)
      byte[] push = WebhookFixture.resource("push.json");
      Map<String, String> gitea = new LinkedHashMap<>();
      gitea.put("Content-Type", "application/json");
      gitea.put("X-Gitea-Event", "push");
      gitea.put("X-Gitea-Delivery", "6c8d5a1e-2b1f-4c3d-9e8f-0a1b2c3d4e5f");
      gitea.put(WebhookSignature.HEADER, WebhookSignature.sign(SECRET.getBytes(StandardCharsets.UTF_8), push));
      HttpResponse<String> r = fx.post(WebhookFixture.NS, "hello", gitea, push);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      await().atMost(Duration.ofSeconds(10)).until(() -> "6c8d5a1e-2b1f-4c3d-9e8f-0a1b2c3d4e5f".equals(
          fx.webhookStatus(WebhookFixture.NS, "hello").get("deliveryId")));
    }
  }

  @Test
  void answersWithoutWaitingForKubernetes() throws Exception {
    try (WebhookFixture fx = new WebhookFixture(Map.of())) {
      fx.repository(WebhookFixture.NS, "hello", SECRET, List.of(), true, false);
      fx.kube.destroy();
      byte[] body = WebhookFixture.resource("push.json");
      long start = System.nanoTime();
      HttpResponse<String> r = fx.post(WebhookFixture.NS, "hello",
          WebhookFixture.github("push", "while-down", SECRET, body), body);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      // the API server is gone: the nudge waits for it, the answer did not
      assertThat(millis).isLessThan(5_000);
      await().atMost(Duration.ofSeconds(5)).until(() -> fx.api.webhookNudges().pending() == 1);
      assertThat(fx.api.webhookNudges().written()).isZero();
    }
  }

  @Test
  void badSignaturesSpendTheAuthFailureBudget() throws Exception {
    try (WebhookFixture fx = new WebhookFixture(Map.of("NIXEK_REPORT_AUTH_FAILURES_PER_MINUTE", "3"))) {
      fx.repository(WebhookFixture.NS, "hello", SECRET, List.of(), true, false);
      byte[] body = WebhookFixture.resource("push.json");
      for (int i = 0; i < 3; i++) {
        assertThat(fx.post(WebhookFixture.NS, "hello", WebhookFixture.github("push", "guess-" + i, "guess", body),
            body).statusCode()).isEqualTo(401);
      }
      HttpResponse<String> limited = fx.post(WebhookFixture.NS, "hello",
          WebhookFixture.github("push", "guess-3", "guess", body), body);
      assertThat(limited.statusCode()).isEqualTo(429);
      assertThat(limited.headers().firstValue("Retry-After")).isPresent();
      // a good signature is never limited
      assertThat(fx.post(WebhookFixture.NS, "hello", WebhookFixture.github("push", "good", SECRET, body), body)
          .statusCode()).isEqualTo(202);
    }
  }
}
