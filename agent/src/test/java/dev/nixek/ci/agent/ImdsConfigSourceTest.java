package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.testing.aws.imds.FakeImds;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ImdsConfigSourceTest {
  private static final AgentConfig CONFIG = TestJobs.config("http://report-api:8080", TestJobs.token(),
      TestJobs.run("build", "make"));

  private static String userData() throws Exception {
    return Json.mapper().writeValueAsString(CONFIG);
  }

  /** What the fake was asked, one {@code "PUT /latest/api/token -> 200"} a request. */
  static List<String> requests(FakeImds imds) {
    return imds.requests().stream().map(FakeImds.Request::line).toList();
  }

  @Test
  void retriesUntilTheServiceAnswersAndRenewsAnExpiredSessionToken() throws Exception {
    try (FakeImds imds = FakeImds.builder().userData(userData()).unavailableForFirst(2).forgetTokensOnce().start()) {
      AgentConfig c = new ImdsConfigSource(imds.endpoint(), Duration.ofSeconds(30)).load();

      assertThat(c).isEqualTo(CONFIG);
      assertThat(requests(imds)).containsExactly(
          "PUT /latest/api/token -> 503", "PUT /latest/api/token -> 503", "PUT /latest/api/token -> 200",
          "GET /latest/user-data -> 401", "PUT /latest/api/token -> 200", "GET /latest/user-data -> 200");
    }
  }

  @Test
  void waitsForAServiceThatIsNotListeningYet() throws Exception {
    try (FakeImds imds = FakeImds.builder().userData(userData()).start()) {
      imds.stopListening();
      CompletableFuture<AgentConfig> loading = CompletableFuture.supplyAsync(() -> {
        try {
          return new ImdsConfigSource(imds.endpoint(), Duration.ofSeconds(30)).load();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(1000); // connections refused meanwhile
      assertThat(loading).isNotDone();
      imds.startListening();

      assertThat(loading.get(20, TimeUnit.SECONDS)).isEqualTo(CONFIG);
    }
  }

  @Test
  void noUserDataIsAConfigErrorNotARetry() throws Exception {
    try (FakeImds imds = FakeImds.builder().start()) {
      assertThatThrownBy(() -> new ImdsConfigSource(imds.endpoint(), Duration.ofSeconds(30)).load())
          .isInstanceOf(UsageException.class).hasMessageContaining("no user-data");
      assertThat(requests(imds)).containsExactly("PUT /latest/api/token -> 200", "GET /latest/user-data -> 404");
    }
  }

  @Test
  void givesUpAfterTheTimeout() throws Exception {
    try (FakeImds imds = FakeImds.builder().userData(userData()).unavailableForFirst(Integer.MAX_VALUE).start()) {
      assertThatThrownBy(() -> new ImdsConfigSource(imds.endpoint(), Duration.ofSeconds(1)).load())
          .isInstanceOf(UsageException.class).hasMessageContaining("did not give the config within 1 s");
      assertThat(requests(imds)).hasSizeGreaterThan(1);
      assertThat(requests(imds)).allMatch(r -> r.endsWith("503"));
    }
  }
}
