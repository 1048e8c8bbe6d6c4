package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** GitHub's payloads (test resources webhooks/github) read as the endpoint reads them. */
class WebhookEventTest {
  private static WebhookEvent parse(String event, String resource) {
    return WebhookEvent.parse(event, WebhookFixture.resource(resource));
  }

  @Test
  void push() {
    WebhookEvent e = parse("push", "push.json");
    assertThat(e.ref()).isEqualTo("refs/heads/main");
    assertThat(e.defaultBranch()).isEqualTo("main");
    assertThat(parse("push", "push-tag.json").ref()).isEqualTo("refs/tags/v1.0");
  }

  @Test
  void pullRequests() {
    WebhookEvent opened = parse("pull_request", "pull_request-opened.json");
    assertThat(opened.action()).isEqualTo("opened");
    assertThat(opened.ref()).isEqualTo("refs/pull/7/head");
    assertThat(opened.fork()).isFalse();
    WebhookEvent sync = parse("pull_request", "pull_request-synchronize.json");
    assertThat(sync.action()).isEqualTo("synchronize");
    assertThat(sync.fork()).isFalse();
    WebhookEvent fork = parse("pull_request", "pull_request-fork.json");
    assertThat(fork.fork()).isTrue();
    assertThat(fork.ref()).isEqualTo("refs/pull/8/head");
  }

  @Test
  void deletedForkCountsAsFork() {
    String body = "{\"action\":\"synchronize\",\"number\":3,\"pull_request\":{\"head\":{\"repo\":null}},"
        + "\"repository\":{\"id\":1,\"full_name\":\"a/b\"}}";
    assertThat(WebhookEvent.parse("pull_request", body.getBytes(StandardCharsets.UTF_8)).fork()).isTrue();
  }

  @Test
  void pingAndOtherEventsNeedOnlyAnObject() {
    assertThat(parse("ping", "ping.json").event()).isEqualTo("ping");
    assertThat(WebhookEvent.parse("issues", "{}".getBytes(StandardCharsets.UTF_8)).ref()).isNull();
  }

  @Test
  void badShapesAre400() {
    String[] bodies = {"{", "[]", "\"push\"", "{\"ref\":5,\"repository\":{}}", "{\"ref\":\"main\",\"repository\":{}}",
        "{\"ref\":\"refs/heads/main\"}"};
    for (String b : bodies) {
      assertThatThrownBy(() -> WebhookEvent.parse("push", b.getBytes(StandardCharsets.UTF_8))).as(b)
          .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400));
    }
    assertThatThrownBy(() -> WebhookEvent.parse("pull_request",
        "{\"action\":\"opened\",\"number\":-1,\"pull_request\":{\"head\":{}},\"repository\":{}}"
            .getBytes(StandardCharsets.UTF_8))).isInstanceOf(ApiError.class);
  }
}
