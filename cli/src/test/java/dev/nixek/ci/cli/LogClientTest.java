package dev.nixek.ci.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The plugin's log client against a stand-in endpoint that breaks connections on purpose. */
class LogClientTest {
  private final List<String> queries = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private HttpServer server;

  @AfterEach
  void stop() {
    server.stop(0);
  }

  /** Serves "hello world\n"; the first {@code breaks} answers promise 100 bytes and end after the first six. */
  private String serve(int breaks) throws IOException {
    AtomicInteger broken = new AtomicInteger();
    byte[] log = "hello world\n".getBytes(StandardCharsets.UTF_8);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/logs/", exchange -> {
      String q = exchange.getRequestURI().getQuery();
      queries.add(q);
      authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
      int offset = Integer.parseInt(q.replaceAll(".*offset=(\\d+).*", "$1"));
      try (exchange) {
        if (broken.getAndIncrement() < breaks) {
          exchange.sendResponseHeaders(200, 100);
          OutputStream o = exchange.getResponseBody();
          o.write(log, offset, 6 - offset);
          o.flush();
          // closing short of the promised length drops the connection: the client sees a broken body
          return;
        }
        exchange.sendResponseHeaders(200, 0);
        exchange.getResponseBody().write(log, offset, log.length - offset);
      } catch (IOException e) {
        // the break itself
      }
    });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/logs/ci/job/";
  }

  @Test
  void aBrokenFollowResumesFromTheLastByteReceived() throws Exception {
    String url = serve(1);
    AtomicInteger tokens = new AtomicInteger();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LogClient client = new LogClient(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
        () -> "token-" + tokens.incrementAndGet(), Duration.ofMillis(10));
    long n = client.read(url, 0, 0, true, out);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello world\n");
    assertThat(n).isEqualTo(12);
    assertThat(queries).containsExactly("offset=0&follow=true", "offset=6&follow=true");
    assertThat(authorizations).as("the token is asked for again on each reconnect")
        .containsExactly("Bearer token-1", "Bearer token-2");
  }

  @Test
  void aFollowThatKeepsBreakingWithoutProgressGivesUp() throws Exception {
    String url = serve(Integer.MAX_VALUE);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LogClient client = new LogClient(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
        () -> "t", Duration.ofMillis(1));
    assertThatThrownBy(() -> client.read(url, 0, 0, true, out))
        .isInstanceOf(LogClient.LogException.class).hasMessageContaining("broke after byte 6")
        .hasMessageContaining(LogClient.MAX_RECONNECTS + " reconnects failed");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello ");
    assertThat(queries).hasSize(1 + LogClient.MAX_RECONNECTS);
  }

  @Test
  void aRefusalIsNotRetriedAndCarriesTheServersMessage() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/logs/", exchange -> {
      queries.add(exchange.getRequestURI().getQuery());
      byte[] body = "{\"error\":\"forbidden\",\"message\":\"user \\\"bob\\\" may not get nixekjobs/log\"}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(403, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/logs/ci/job";
    LogClient client = new LogClient(HttpClient.newHttpClient(), () -> "t", Duration.ofMillis(10));
    assertThatThrownBy(() -> client.read(url, 0, 0, true, OutputStream.nullOutputStream()))
        .isInstanceOfSatisfying(LogClient.LogException.class, e -> {
          assertThat(e.status()).isEqualTo(403);
          assertThat(e.getMessage()).isEqualTo("HTTP 403: user \"bob\" may not get nixekjobs/log");
        });
    assertThat(queries).containsExactly("offset=0&follow=true");
  }
}
