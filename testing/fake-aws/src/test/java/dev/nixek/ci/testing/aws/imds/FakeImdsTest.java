package dev.nixek.ci.testing.aws.imds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** IMDSv2 token rules and unavailability, with the JDK HTTP client (what an agent would do). */
class FakeImdsTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private HttpResponse<String> put(FakeImds imds, String path, String ttl, String... extraHeaders) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(imds.endpoint() + path))
                .PUT(HttpRequest.BodyPublishers.noBody());
        if (ttl != null) {
            b.header(FakeImds.TTL_HEADER, ttl);
        }
        for (int i = 0; i < extraHeaders.length; i += 2) {
            b.header(extraHeaders[i], extraHeaders[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(FakeImds imds, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(imds.endpoint() + path)).GET();
        if (token != null) {
            b.header(FakeImds.TOKEN_HEADER, token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void tokenThenUserDataAndInstanceId() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("{\"job\":\"x\"}").instanceId("i-0abc0abc0abc0abc0").start()) {
            HttpResponse<String> token = put(imds, "/latest/api/token", "21600");
            assertThat(token.statusCode()).isEqualTo(200);
            assertThat(token.body()).isNotBlank();
            assertThat(token.headers().firstValue(FakeImds.TTL_HEADER)).contains("21600");

            HttpResponse<String> userData = get(imds, "/latest/user-data", token.body());
            assertThat(userData.statusCode()).isEqualTo(200);
            assertThat(userData.body()).isEqualTo("{\"job\":\"x\"}");
            HttpResponse<String> id = get(imds, "/latest/meta-data/instance-id", token.body());
            assertThat(id.statusCode()).isEqualTo(200);
            assertThat(id.body()).isEqualTo("i-0abc0abc0abc0abc0");
            assertThat(get(imds, "/latest/meta-data/", token.body()).body()).contains("instance-id");
            assertThat(get(imds, "/latest/meta-data/no-such-key", token.body()).statusCode()).isEqualTo(404);

            assertThat(imds.requests()).extracting(FakeImds.Request::status).containsExactly(200, 200, 200, 200, 404);
            assertThat(imds.requests().get(1).hadToken()).isTrue();
        }
    }

    @Test
    void imdsV2IsRequiredAndTokensAreChecked() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("secret").start()) {
            assertThat(get(imds, "/latest/user-data", null).statusCode()).as("no token").isEqualTo(401);
            assertThat(get(imds, "/latest/user-data", "made-up").statusCode()).as("unknown token").isEqualTo(401);
            assertThat(get(imds, "/latest/meta-data/instance-id", null).statusCode()).isEqualTo(401);

            String token = put(imds, "/latest/api/token", "60").body();
            assertThat(get(imds, "/latest/user-data", token).statusCode()).isEqualTo(200);
            imds.expireAllTokens();
            assertThat(get(imds, "/latest/user-data", token).statusCode()).as("expired token").isEqualTo(401);
        }
    }

    @Test
    void tokensExpireAfterTheirTtl() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").start()) {
            String token = put(imds, "/latest/api/token", "1").body();
            assertThat(get(imds, "/latest/user-data", token).statusCode()).isEqualTo(200);
            Thread.sleep(1100);
            assertThat(get(imds, "/latest/user-data", token).statusCode()).isEqualTo(401);
        }
    }

    @Test
    void tokenRequestsAreValidated() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").start()) {
            assertThat(put(imds, "/latest/api/token", null).statusCode()).as("TTL header missing").isEqualTo(400);
            assertThat(put(imds, "/latest/api/token", "0").statusCode()).isEqualTo(400);
            assertThat(put(imds, "/latest/api/token", "21601").statusCode()).isEqualTo(400);
            assertThat(put(imds, "/latest/api/token", "abc").statusCode()).isEqualTo(400);
            assertThat(put(imds, "/latest/api/token", "1").statusCode()).isEqualTo(200);
            assertThat(put(imds, "/latest/api/token", "60", "X-Forwarded-For", "10.0.0.7").statusCode())
                    .as("proxied token requests are refused").isEqualTo(403);
            assertThat(get(imds, "/latest/api/token", null).statusCode()).isEqualTo(405);
        }
    }

    @Test
    void noUserDataIs404AndImdsV1CanBeAllowed() throws Exception {
        try (FakeImds imds = FakeImds.builder().allowImdsV1(true).start()) {
            assertThat(get(imds, "/latest/user-data", null).statusCode()).isEqualTo(404);
            assertThat(get(imds, "/latest/meta-data/instance-id", null).statusCode()).isEqualTo(200);
            assertThat(get(imds, "/latest/meta-data/instance-id", "bogus").statusCode())
                    .as("a bad token is refused even when IMDSv1 is allowed").isEqualTo(401);
        }
    }

    @Test
    void unavailableForTheFirstRequests() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").unavailableForFirst(2).start()) {
            assertThat(put(imds, "/latest/api/token", "60").statusCode()).isEqualTo(503);
            assertThat(put(imds, "/latest/api/token", "60").statusCode()).isEqualTo(503);
            String token = put(imds, "/latest/api/token", "60").body();
            assertThat(get(imds, "/latest/user-data", token).body()).isEqualTo("u");
        }
    }

    @Test
    void unavailableForAWhile() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").unavailableFor(Duration.ofMillis(300)).start()) {
            assertThat(put(imds, "/latest/api/token", "60").statusCode()).isEqualTo(503);
            Thread.sleep(350);
            assertThat(put(imds, "/latest/api/token", "60").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void refusesConnectionsUntilItListens() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").refuseConnectionsFor(Duration.ofMillis(400)).start()) {
            assertThat(imds.listening()).isFalse();
            assertThatThrownBy(() -> put(imds, "/latest/api/token", "60")).isInstanceOf(ConnectException.class);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            HttpResponse<String> ok = null;
            while (ok == null && System.nanoTime() < deadline) {
                try {
                    ok = put(imds, "/latest/api/token", "60");
                } catch (IOException notYet) {
                    Thread.sleep(50);
                }
            }
            assertThat(ok).isNotNull();
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(imds.listening()).isTrue();
            assertThat(get(imds, "/latest/user-data", ok.body()).body()).isEqualTo("u");
        }
    }

    @Test
    void aRestartedServiceForgetsItsTokensOnce() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").forgetTokensOnce().start()) {
            String first = put(imds, "/latest/api/token", "60").body();
            assertThat(first).startsWith(FakeImds.TOKEN_PREFIX);
            assertThat(get(imds, "/latest/user-data", first).statusCode()).isEqualTo(401);
            assertThat(get(imds, "/latest/user-data", first).statusCode()).as("still forgotten").isEqualTo(401);
            String second = put(imds, "/latest/api/token", "60").body();
            assertThat(get(imds, "/latest/user-data", second).body()).isEqualTo("u");
            assertThat(imds.requests()).extracting(FakeImds.Request::line).containsExactly(
                    "PUT /latest/api/token -> 200", "GET /latest/user-data -> 401", "GET /latest/user-data -> 401",
                    "PUT /latest/api/token -> 200", "GET /latest/user-data -> 200");
        }
    }

    @Test
    void stopsAndStartsListeningOnTheSamePort() throws Exception {
        try (FakeImds imds = FakeImds.builder().userData("u").start()) {
            URI before = imds.endpoint();
            imds.stopListening();
            assertThat(imds.listening()).isFalse();
            assertThatThrownBy(() -> put(imds, "/latest/api/token", "60")).isInstanceOf(ConnectException.class);
            imds.startListening();
            assertThat(imds.listening()).isTrue();
            assertThat(imds.endpoint()).isEqualTo(before);
            assertThat(put(imds, "/latest/api/token", "60").statusCode()).isEqualTo(200);
        }
    }
}
