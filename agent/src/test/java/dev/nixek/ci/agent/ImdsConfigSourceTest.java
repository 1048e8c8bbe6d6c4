package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.nixek.ci.protocol.AgentConfig;
import dev.nixek.ci.protocol.Json;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ImdsConfigSourceTest {
  private static final AgentConfig CONFIG = TestJobs.config("http://report-api:8080", TestJobs.token(),
      TestJobs.run("build", "make"));

  private static byte[] userData() throws Exception {
    return Json.mapper().writeValueAsBytes(CONFIG);
  }

  @Test
  void retriesUntilTheServiceAnswersAndRenewsAnExpiredSessionToken() throws Exception {
    try (FakeImds imds = new FakeImds(userData(), 2, true)) {
      AgentConfig c = new ImdsConfigSource(URI.create(imds.url()), Duration.ofSeconds(30)).load();

      assertThat(c).isEqualTo(CONFIG);
      assertThat(imds.requests()).containsExactly(
          "PUT /latest/api/token -> 503", "PUT /latest/api/token -> 503", "PUT /latest/api/token -> 200",
          "GET /latest/user-data -> 401", "PUT /latest/api/token -> 200", "GET /latest/user-data -> 200");
    }
  }

  @Test
  void waitsForAServiceThatIsNotListeningYet() throws Exception {
    try (FakeImds imds = new FakeImds(userData(), 0, false)) {
      imds.stop();
      CompletableFuture<AgentConfig> loading = CompletableFuture.supplyAsync(() -> {
        try {
          return new ImdsConfigSource(URI.create(imds.url()), Duration.ofSeconds(30)).load();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(1000); // connections refused meanwhile
      assertThat(loading).isNotDone();
      imds.start();

      assertThat(loading.get(20, TimeUnit.SECONDS)).isEqualTo(CONFIG);
    }
  }

  @Test
  void noUserDataIsAConfigErrorNotARetry() throws Exception {
    try (FakeImds imds = new FakeImds(null, 0, false)) {
      assertThatThrownBy(() -> new ImdsConfigSource(URI.create(imds.url()), Duration.ofSeconds(30)).load())
          .isInstanceOf(UsageException.class).hasMessageContaining("no user-data");
      assertThat(imds.requests()).containsExactly("PUT /latest/api/token -> 200", "GET /latest/user-data -> 404");
    }
  }

  @Test
  void givesUpAfterTheTimeout() throws Exception {
    try (FakeImds imds = new FakeImds(userData(), Integer.MAX_VALUE, false)) {
      assertThatThrownBy(() -> new ImdsConfigSource(URI.create(imds.url()), Duration.ofSeconds(1)).load())
          .isInstanceOf(UsageException.class).hasMessageContaining("did not give the config within 1 s");
      assertThat(imds.requests()).hasSizeGreaterThan(1);
      assertThat(List.copyOf(imds.requests())).allMatch(r -> r.endsWith("503"));
    }
  }
}
