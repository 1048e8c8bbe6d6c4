package dev.nixek.ci.operator;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code /healthz} (the process answers), {@code /readyz} (the operator is started and its informers healthy) and
 * {@code /metrics} (Prometheus text).
 */
final class HealthServer implements AutoCloseable {
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  private final HttpServer server;

  HealthServer(int port, BooleanSupplier ready, Supplier<String> metrics) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/healthz", ex -> respond(ex, 200, "ok"));
    server.createContext("/readyz", ex -> respond(ex, ready.getAsBoolean() ? 200 : 503,
        ready.getAsBoolean() ? "ready" : "not ready"));
    // the health port is the pod's own (never exposed beyond the cluster), so metrics need no port of their own here
    server.createContext("/metrics", ex -> {
      byte[] b = metrics.get().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", PROMETHEUS_TEXT);
      ex.sendResponseHeaders(200, b.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(b);
      }
    });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void respond(com.sun.net.httpserver.HttpExchange ex, int code, String body) throws IOException {
    byte[] b = (body + "\n").getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(code, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
