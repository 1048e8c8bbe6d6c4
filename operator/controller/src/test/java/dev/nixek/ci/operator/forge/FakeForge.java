package dev.nixek.ci.operator.forge;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A forge's commit-status endpoint on a real HTTP server: records every request (method, path, headers, JSON body)
 * and answers 201 — or, while {@link #failWith} is set, that status; {@link #stop()} and {@link #restart()} on the
 * same port make it unreachable and back.
 */
final class FakeForge implements AutoCloseable {
  /** One request as it arrived. */
  record Request(String method, String path, Map<String, String> headers, JsonNode body, int answered) {
    String header(String name) {
      return headers.get(name.toLowerCase());
    }
  }

  private final List<Request> requests = new ArrayList<>();
  private volatile int failWith;
  private volatile Map<String, String> failHeaders = Map.of();
  private HttpServer server;
  private int port;

  FakeForge() throws IOException {
    restart();
  }

  synchronized void restart() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 20);
    server.createContext("/", this::handle);
    server.start();
    port = server.getAddress().getPort();
  }

  synchronized void stop() {
    server.stop(0);
  }

  String url(String prefix) {
    return "http://127.0.0.1:" + port + prefix;
  }

  void failWith(int status, Map<String, String> headers) {
    failHeaders = headers;
    failWith = status;
  }

  void recover() {
    failWith = 0;
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The requests the forge accepted. */
  synchronized List<Request> accepted() {
    return requests.stream().filter(r -> r.answered() == 201).toList();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      Map<String, String> headers = new TreeMap<>();
      ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), String.join(",", v)));
      int status = failWith == 0 ? 201 : failWith;
      JsonNode json = body.length == 0 ? null : Serialization.jsonMapper().readTree(body);
      synchronized (this) {
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), headers, json, status));
      }
      if (status != 201) {
        failHeaders.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
      }
      byte[] answer = (status == 201 ? "{\"id\":1,\"state\":\"" + (json == null ? "" : json.path("state").asText())
          + "\"}" : "{\"message\":\"failing on purpose\"}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, answer.length);
      ex.getResponseBody().write(answer);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
