package dev.nixek.ci.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent honours the report API's Retry-After on 429 and 503: it never sends again sooner than asked. */
class ReportClientRetryAfterTest {
  private HttpServer server;

  private ReportClient answering(int status, String retryAfter) throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      ex.getRequestBody().readAllBytes();
      if (retryAfter != null) {
        ex.getResponseHeaders().add("Retry-After", retryAfter);
      }
      byte[] body = "{\"error\":\"too_many_requests\",\"message\":\"slow down\"}".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    return new ReportClient("http://127.0.0.1:" + server.getAddress().getPort(), "nxkjt_x", Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void a429WithRetryAfterWaitsAtLeastThatLong() throws Exception {
    ReportClient.Result r = answering(429, "7").post("/v1/jobs/ci/j/steps/0/output", "{}".getBytes());
    assertThat(r.verdict()).isEqualTo(ReportClient.Verdict.RETRY);
    assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    Backoff small = new Backoff(Duration.ofMillis(10), Duration.ofMillis(20));
    for (int i = 0; i < 5; i++) {
      assertThat(r.delayAfter(small)).isEqualTo(Duration.ofSeconds(7));
    }
  }

  @Test
  void withoutRetryAfterTheBackoffDecides() throws Exception {
    ReportClient.Result r = answering(503, null).post("/v1/jobs/ci/j/steps/0/output", "{}".getBytes());
    assertThat(r.verdict()).isEqualTo(ReportClient.Verdict.RETRY);
    assertThat(r.retryAfter()).isNull();
    assertThat(r.delayAfter(new Backoff(Duration.ofMillis(10), Duration.ofMillis(20))))
        .isLessThanOrEqualTo(Duration.ofMillis(20));
  }

  @Test
  void aLongerBackoffIsNotShortenedByRetryAfter() throws Exception {
    ReportClient.Result r = answering(429, "1").post("/v1/jobs/ci/j/steps/0/output", "{}".getBytes());
    assertThat(r.delayAfter(new Backoff(Duration.ofSeconds(10), Duration.ofSeconds(10))))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aRefusalCarriesNoRetryAfter() throws Exception {
    ReportClient.Result r = answering(401, "30").post("/v1/jobs/ci/j/steps/0/output", "{}".getBytes());
    assertThat(r.verdict()).isEqualTo(ReportClient.Verdict.JOB_REFUSED);
    assertThat(r.retryAfter()).isNull();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', nullValues = "null", value = {
      "0|PT0S", "3|PT3S", " 12 |PT12S", "999999999|PT5M", "-1|null", "1.5|null",
      "Wed, 21 Oct 2015 07:28:00 GMT|null", "abc|null", "''|null"})
  void retryAfterIsDeltaSecondsCapped(String header, String expected) {
    assertThat(ReportClient.retryAfter(header)).isEqualTo(expected == null ? null : Duration.parse(expected));
  }
}
