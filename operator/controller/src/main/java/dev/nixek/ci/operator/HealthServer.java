package dev.nixek.ci.operator;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/** {@code /healthz} (the process answers) and {@code /readyz} (the operator is started and its informers healthy). */
final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  HealthServer(int port, BooleanSupplier ready) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/healthz", ex -> respond(ex, 200, "ok"));
    server.createContext("/readyz", ex -> respond(ex, ready.getAsBoolean() ? 200 : 503,
        ready.getAsBoolean() ? "ready" : "not ready"));
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
