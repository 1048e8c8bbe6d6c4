package dev.nixek.ci.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * IMDSv2 as far as the agent uses it: PUT /latest/api/token (with a TTL header) gives a session token, and
 * GET /latest/user-data needs it. It can answer 503 to the first requests (a metadata service still booting) and
 * forget its tokens once (a restarted service), have no user-data at all (null), and it records what it was asked.
 */
final class FakeImds implements AutoCloseable {
  private final byte[] userData;
  private final Set<String> tokens = new HashSet<>();
  private final List<String> requests = new ArrayList<>();
  private int unavailableRequests;
  private boolean forgetTokensOnce;
  private HttpServer server;
  private final int port;

  FakeImds(byte[] userData, int unavailableRequests, boolean forgetTokensOnce) throws IOException {
    this.userData = userData;
    this.unavailableRequests = unavailableRequests;
    this.forgetTokensOnce = forgetTokensOnce;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    server.createContext("/", this::handle);
    server.start();
    port = server.getAddress().getPort();
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  synchronized List<String> requests() {
    return List.copyOf(requests);
  }

  /** Not listening (connection refused) until {@link #start()}. */
  synchronized void stop() {
    server.stop(0);
    server = null;
  }

  synchronized void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10);
    server.createContext("/", this::handle);
    server.start();
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      ex.getRequestBody().readAllBytes();
      int status;
      byte[] body = new byte[0];
      synchronized (this) {
        String what = ex.getRequestMethod() + " " + ex.getRequestURI().getPath();
        String token = ex.getRequestHeaders().getFirst("X-aws-ec2-metadata-token");
        if (unavailableRequests > 0) {
          unavailableRequests--;
          status = 503;
        } else if (what.equals("PUT /latest/api/token")) {
          if (ex.getRequestHeaders().getFirst("X-aws-ec2-metadata-token-ttl-seconds") == null) {
            status = 400;
          } else {
            String t = "imds-" + UUID.randomUUID();
            tokens.add(t);
            status = 200;
            body = t.getBytes(StandardCharsets.US_ASCII);
          }
        } else if (what.equals("GET /latest/user-data")) {
          if (forgetTokensOnce && token != null && tokens.contains(token)) {
            forgetTokensOnce = false;
            tokens.clear();
          }
          if (token == null || !tokens.contains(token)) {
            status = 401;
          } else if (userData == null) {
            status = 404;
          } else {
            status = 200;
            body = userData;
          }
        } else {
          status = 404;
        }
        requests.add(what + " -> " + status);
      }
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    }
  }
}
