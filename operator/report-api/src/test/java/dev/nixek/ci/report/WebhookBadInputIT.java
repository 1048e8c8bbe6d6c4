package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every way a delivery is refused or ignored, each with its status code and answer word, and each leaving the
 * repository as it was: no {@code status.webhook}, no nudge written or waiting.
 */
class WebhookBadInputIT {
  private static final String SECRET = "s3cret-of-hello";
  private static final int LIMIT = 8192;
  private static final AtomicInteger IDS = new AtomicInteger();
  private static WebhookFixture fx;

  @BeforeAll
  static void start() throws Exception {
    fx = new WebhookFixture(Map.of("NIXEK_WEBHOOK_BODY_LIMIT_BYTES", Integer.toString(LIMIT)));
    fx.repository(WebhookFixture.NS, "hello", SECRET, List.of(), true, false);
    fx.repository(WebhookFixture.NS, "noprs", SECRET, List.of("main"), false, false);
    fx.repository(WebhookFixture.NS, "nosecret", null, List.of(), true, false);
    fx.client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
        .withName("team-b").endMetadata().build()).create();
    // in a namespace the report API does not watch: it can never be found
    fx.client.genericKubernetesResources(WebhookRepositories.KIND).inNamespace("team-b").resource(
        new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("ci.nixek.dev/v1alpha1")
            .withKind("NixekRepository").withNewMetadata().withName("hello").endMetadata().build()).create();
  }

  @AfterAll
  static void stop() throws Exception {
    fx.close();
  }

  @AfterEach
  void nothingChanged() throws Exception {
    // the worker had time to write, had anything been queued
    Thread.sleep(50);
    assertThat(fx.api.webhookNudges().written()).isZero();
    assertThat(fx.api.webhookNudges().pending()).isZero();
    for (String repo : new String[] {"hello", "noprs", "nosecret"}) {
      assertThat(fx.webhookStatus(WebhookFixture.NS, repo)).as(repo).isNull();
    }
  }

  /** One row: where it goes, what it sends, what it must get. */
  record Row(String name, String repo, String event, String body, Consumer<Map<String, String>> headers,
      int status, String word) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Consumer<Map<String, String>> none() {
    return h -> { };
  }

  static Stream<Arguments> rows() {
    String push = new String(WebhookFixture.resource("push.json"), StandardCharsets.UTF_8);
    String fork = new String(WebhookFixture.resource("pull_request-fork.json"), StandardCharsets.UTF_8);
    String opened = new String(WebhookFixture.resource("pull_request-opened.json"), StandardCharsets.UTF_8);
    String big = "{\"ref\":\"refs/heads/main\",\"repository\":{},\"pad\":\"" + "x".repeat(LIMIT) + "\"}";
    return Stream.of(
        new Row("signature missing", "hello", "push", push, h -> h.remove(WebhookSignature.HEADER), 401,
            "unauthorized"),
        new Row("signature sha1 only", "hello", "push", push, h -> {
          h.remove(WebhookSignature.HEADER);
          h.put("X-Hub-Signature", "sha1=" + "0".repeat(40));
        }, 401, "unauthorized"),
        new Row("signature malformed", "hello", "push", push, h -> h.put(WebhookSignature.HEADER, "sha256=abc"), 401,
            "unauthorized"),
        new Row("signature under another secret", "hello", "push", push, h -> h.put(WebhookSignature.HEADER,
            WebhookSignature.sign("not-" + SECRET, push)), 401, "unauthorized"),
        new Row("signature of another body", "hello", "push", push, h -> h.put(WebhookSignature.HEADER,
            WebhookSignature.sign(SECRET, push + " ")), 401, "unauthorized"),
        new Row("unknown repository", "nope", "push", push, none(), 404, "not_found"),
        new Row("repository in an unwatched namespace", "team-b/hello", "push", push, none(), 404, "not_found"),
        new Row("repository without a webhook secret", "nosecret", "push", push, none(), 404, "not_found"),
        new Row("form-encoded body", "hello", "push", push,
            h -> h.put("Content-Type", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
        new Row("no content type", "hello", "push", push, h -> h.remove("Content-Type"), 415,
            "unsupported_media_type"),
        new Row("body over the limit", "hello", "push", big, none(), 413, "body_too_large"),
        new Row("malformed JSON", "hello", "push", "{\"ref\": \"refs/heads/main\"", none(), 400, "bad_request"),
        new Row("JSON array", "hello", "push", "[1,2,3]", none(), 400, "bad_request"),
        new Row("push without ref", "hello", "push", "{\"repository\":{\"id\":1}}", none(), 400, "bad_request"),
        new Row("push with a ref that is no ref", "hello", "push", "{\"ref\":\"main\",\"repository\":{\"id\":1}}",
            none(), 400, "bad_request"),
        new Row("pull request without number", "hello", "pull_request",
            "{\"action\":\"opened\",\"pull_request\":{\"head\":{}},\"repository\":{}}", none(), 400, "bad_request"),
        new Row("no event header", "hello", "push", push, h -> h.remove("X-GitHub-Event"), 400, "bad_request"),
        new Row("event header not an event", "hello", "push", push, h -> h.put("X-GitHub-Event", "Push Event"),
            400, "bad_request"),
        new Row("no delivery id", "hello", "push", push, h -> h.remove("X-GitHub-Delivery"), 400, "bad_request"),
        new Row("delivery id with a slash", "hello", "push", push, h -> h.put("X-GitHub-Delivery", "a/b"), 400,
            "bad_request"),
        new Row("push to a branch not built", "hello", "push", push.replace("refs/heads/main", "refs/heads/wip"),
            none(), 202, "ignored"),
        new Row("push of a tag", "hello", "push",
            new String(WebhookFixture.resource("push-tag.json"), StandardCharsets.UTF_8), none(), 202, "ignored"),
        new Row("fork pull request, forks off", "hello", "pull_request", fork, none(), 202, "ignored"),
        new Row("pull request, pull requests off", "noprs", "pull_request", opened, none(), 202, "ignored"),
        new Row("pull request labeled", "hello", "pull_request", opened.replace("\"opened\"", "\"labeled\""), none(),
            202, "ignored"),
        new Row("event not built (issues)", "hello", "issues", "{\"action\":\"opened\",\"repository\":{}}", none(),
            202, "ignored")).map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void refusedOrIgnored(Row row) throws Exception {
    byte[] body = row.body().getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = new LinkedHashMap<>(WebhookFixture.github(row.event(),
        "bad-" + IDS.incrementAndGet(), SECRET, body));
    row.headers().accept(headers);
    String ns = row.repo().contains("/") ? row.repo().split("/")[0] : WebhookFixture.NS;
    String name = row.repo().contains("/") ? row.repo().split("/")[1] : row.repo();
    HttpResponse<String> r = fx.post(ns, name, headers, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(row.status());
    assertThat(r.body()).contains("\"" + row.word() + "\"");
    assertThat(r.body()).doesNotContain(SECRET);
  }

  @Test
  void tableHasFifteenRowsOrMore() {
    assertThat(rows().count()).isGreaterThanOrEqualTo(15);
  }

  @Test
  void chunkedBodyOverTheLimitIs413() throws Exception {
    byte[] chunk = new byte[1024];
    Arrays.fill(chunk, (byte) ' ');
    // no Content-Length: the body handler must cut it off as it passes the limit
    Flow.Publisher<ByteBuffer> endless = subscriber -> subscriber.onSubscribe(new Flow.Subscription() {
      int sent;

      @Override
      public void request(long n) {
        for (long i = 0; i < n && sent < 64; i++, sent++) {
          subscriber.onNext(ByteBuffer.wrap(chunk));
        }
        if (sent >= 64) {
          subscriber.onComplete();
        }
      }

      @Override
      public void cancel() {
        sent = Integer.MAX_VALUE;
      }
    });
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fx.port
        + "/v1/webhooks/ci/hello")).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.fromPublisher(endless));
    WebhookFixture.github("push", "chunked-1", SECRET, new byte[0]).forEach(b::header);
    int status;
    try {
      status = fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (java.io.IOException e) {
      // the server may close the connection while the client still sends; that is a refusal too
      status = 413;
    }
    assertThat(status).isEqualTo(413);
  }
}
