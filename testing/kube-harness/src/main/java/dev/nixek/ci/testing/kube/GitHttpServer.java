package dev.nixek.ci.testing.kube;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Real git over smart HTTP for tests: {@code git http-backend} (CGI) behind a JDK HTTP server that demands one
 * {@code Authorization} header value (or none), records every request's authorization and path, and answers 401
 * with a Basic challenge otherwise, as a forge does for a private repository. Used by the agent's checkout tests and
 * the builder's evaluation of a private repository (two servers: two origins).
 */
public final class GitHttpServer implements AutoCloseable {
  /** One request: its path and query, and the Authorization header it carried (or null). */
  public record Request(String pathAndQuery, String authorization) {}

  private final Path root;
  private final String requiredAuthorization;
  private final HttpServer server;
  private final List<Request> requests = new ArrayList<>();

  public GitHttpServer(Path root, String requiredAuthorization) throws IOException {
    this.root = root;
    this.requiredAuthorization = requiredAuthorization;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The clone URL of the bare repository {@code name} under the root. */
  public String url(String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
  }

  public synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      String query = ex.getRequestURI().getRawQuery();
      synchronized (this) {
        requests.add(new Request(ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query), auth));
      }
      byte[] body = ex.getRequestBody().readAllBytes();
      if (requiredAuthorization != null && !requiredAuthorization.equals(auth)) {
        ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"test forge\"");
        ex.sendResponseHeaders(401, -1);
        return;
      }
      ProcessBuilder pb = new ProcessBuilder("git", "http-backend");
      Map<String, String> env = pb.environment();
      env.put("GIT_PROJECT_ROOT", root.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("PATH_INFO", ex.getRequestURI().getPath());
      env.put("REQUEST_METHOD", ex.getRequestMethod());
      env.put("QUERY_STRING", query == null ? "" : query);
      env.put("REMOTE_ADDR", "127.0.0.1");
      env.put("CONTENT_LENGTH", Integer.toString(body.length));
      putIfPresent(env, "CONTENT_TYPE", ex.getRequestHeaders().getFirst("Content-Type"));
      putIfPresent(env, "HTTP_CONTENT_ENCODING", ex.getRequestHeaders().getFirst("Content-Encoding"));
      putIfPresent(env, "GIT_PROTOCOL", ex.getRequestHeaders().getFirst("Git-Protocol"));
      Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(body);
      }
      byte[] out;
      try (InputStream o = p.getInputStream()) {
        out = o.readAllBytes();
      }
      int headerEnd = indexOfBlankLine(out);
      int status = 200;
      for (String line : new String(out, 0, headerEnd, StandardCharsets.ISO_8859_1).split("\r?\n")) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Status")) {
          status = Integer.parseInt(value.split(" ")[0]);
        } else {
          ex.getResponseHeaders().add(name, value);
        }
      }
      int start = headerEnd + (out.length > headerEnd + 1 && out[headerEnd] == '\r' ? 4 : 2);
      ByteArrayOutputStream rest = new ByteArrayOutputStream();
      rest.write(out, Math.min(start, out.length), Math.max(0, out.length - start));
      ex.sendResponseHeaders(status, rest.size() == 0 ? -1 : rest.size());
      if (rest.size() > 0) {
        ex.getResponseBody().write(rest.toByteArray());
      }
    }
  }

  private static int indexOfBlankLine(byte[] b) {
    for (int i = 0; i + 1 < b.length; i++) {
      if (b[i] == '\n' && b[i + 1] == '\n') {
        return i;
      }
      if (i + 3 < b.length && b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
        return i;
      }
    }
    return b.length;
  }

  private static void putIfPresent(Map<String, String> env, String key, String value) {
    if (value != null) {
      env.put(key, value);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
