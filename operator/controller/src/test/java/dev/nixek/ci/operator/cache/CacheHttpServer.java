package dev.nixek.ci.operator.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.nixek.ci.common.cache.CacheReadTokens;
import dev.nixek.ci.common.cache.CacheReadView;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The read-only view served over HTTP as the report API serves it ({@code GET /v1/cache/<domain>/<file>}, a read
 * token of that domain as the netrc password), for real Nix to substitute from; it remembers every request.
 */
final class CacheHttpServer implements AutoCloseable {
  static final String PATH = "/v1/cache/";

  private final HttpServer server;
  private final CacheReadView view;
  private final CacheReadTokens tokens;
  final List<String> requests = new CopyOnWriteArrayList<>();

  CacheHttpServer(CacheReadView view, CacheReadTokens tokens) throws IOException {
    this.view = view;
    this.tokens = tokens;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(PATH, this::handle);
    server.start();
  }

  URI url(String trustDomain) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + PATH + trustDomain);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String rest = exchange.getRequestURI().getPath().substring(PATH.length());
      int slash = rest.indexOf('/');
      int status;
      Optional<CacheReadView.File> file = Optional.empty();
      if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
        status = 405;
      } else if (slash <= 0) {
        status = 404;
      } else {
        String domain = rest.substring(0, slash);
        String token = CacheReadTokens.fromBasicAuth(exchange.getRequestHeaders().getFirst("Authorization"))
            .orElse(null);
        if (!tokens.allows(token, domain, Instant.now())) {
          status = 401;
        } else {
          file = view.open(domain, rest.substring(slash + 1));
          status = file.isPresent() ? 200 : 404;
        }
      }
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " " + status);
      if (file.isEmpty()) {
        if (status == 401) {
          exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"nixek-ci cache\"");
        }
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      try (InputStream in = file.get().body()) {
        exchange.getResponseHeaders().add("Content-Type", file.get().contentType());
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(200, head ? -1 : Math.max(0, file.get().length()));
        if (!head) {
          try (OutputStream out = exchange.getResponseBody()) {
            in.transferTo(out);
          }
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
