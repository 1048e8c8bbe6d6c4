package dev.nixek.ci.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The forge client against a local HTTP server answering in GitHub's and Gitea's shape. */
class ForgeClientTest {
  private HttpServer server;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private volatile int status = 200;

  private static String pull(int n, String head, String base) {
    return "{\"number\":" + n + ",\"state\":\"open\",\"head\":{\"sha\":\"" + "a".repeat(40) + "\",\"repo\":"
        + (head == null ? "null" : "{\"full_name\":\"" + head + "\"}") + "},\"base\":{\"repo\":{\"full_name\":\""
        + base + "\"}}}";
  }

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      requests.add(exchange.getRequestURI() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
      String body = "[" + pull(1, "o/r", "o/r") + "," + pull(2, "someone/r", "o/r") + "," + pull(3, null, "o/r")
          + "]";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void openPullRequestsWithForksToldApart() throws Exception {
    String api = "http://127.0.0.1:" + server.getAddress().getPort() + "/api/v1";
    List<ForgeClient.PullRequest> pulls = new ForgeClient().openPullRequests("gitea", api, "o/r", "t0k");
    assertThat(pulls).containsExactly(new ForgeClient.PullRequest(1, "a".repeat(40), false),
        new ForgeClient.PullRequest(2, "a".repeat(40), true), new ForgeClient.PullRequest(3, "a".repeat(40), true));
    assertThat(requests).containsExactly("/api/v1/repos/o/r/pulls?state=open&page=1&limit=50 token t0k");
    requests.clear();
    new ForgeClient().openPullRequests("github", api + "/", "o/r", null);
    assertThat(requests).containsExactly("/api/v1/repos/o/r/pulls?state=open&page=1&per_page=100 null");
  }

  @Test
  void anErrorStatusIsAFailureNamingIt() {
    status = 401;
    String api = "http://127.0.0.1:" + server.getAddress().getPort();
    assertThatThrownBy(() -> new ForgeClient().openPullRequests("github", api, "o/r", "t0k"))
        .isInstanceOf(ForgeClient.Failure.class).hasMessageContaining("answered 401").hasMessageNotContaining("t0k");
  }
}
