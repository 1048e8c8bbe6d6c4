package dev.nixek.ci.cli;

import dev.nixek.ci.protocol.ArtifactListing;
import dev.nixek.ci.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Supplier;

/**
 * Lists and downloads a job's artifacts from the report API with the user's Kubernetes bearer token
 * (docs/artifacts.md): {@code GET /v1/artifacts/<ns>/<job>} and {@code .../steps/<i>?artifact=&path=}. A download is
 * written to a temporary file next to its place, its SHA-256 checked against the listing's (or the answer's header),
 * and only then renamed into place.
 */
final class ArtifactClient {
  private final HttpClient http;
  private final Supplier<String> token;
  private final String base;

  ArtifactClient(HttpClient http, Supplier<String> token, String reportBaseUrl) {
    this.http = http;
    this.token = token;
    this.base = LogClient.stripSlash(reportBaseUrl);
  }

  ArtifactListing list(String namespace, String name) throws IOException, InterruptedException {
    HttpResponse<InputStream> r = send(base + ArtifactListing.jobPath(namespace, name));
    try (InputStream in = r.body()) {
      byte[] body = in.readAllBytes();
      if (r.statusCode() != 200) {
        throw refusal(r.statusCode(), body);
      }
      return Json.mapper().readValue(body, ArtifactListing.class);
    }
  }

  /** Downloads one file to {@code target} (not overwriting one that exists); returns its SHA-256. */
  String download(String namespace, String name, ArtifactListing.Entry e, Path target)
      throws IOException, InterruptedException {
    if (Files.exists(target)) {
      throw new IOException(target + " exists; not overwritten (choose another directory with -o)");
    }
    String url = base + ArtifactListing.filePath(namespace, name, e.step()) + "?artifact=" + enc(e.name()) + "&path="
        + enc(e.path());
    HttpResponse<InputStream> r = send(url);
    if (target.getParent() != null) {
      Files.createDirectories(target.getParent());
    }
    Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
    MessageDigest sha = sha256();
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw refusal(r.statusCode(), in.readNBytes(4096));
      }
      long n = 0;
      try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        byte[] buf = new byte[256 * 1024];
        for (int k; (k = in.read(buf)) > 0; ) {
          sha.update(buf, 0, k);
          out.write(buf, 0, k);
          n += k;
        }
      }
      String got = HexFormat.of().formatHex(sha.digest());
      String expected = e.sha256() != null ? e.sha256()
          : r.headers().firstValue(ArtifactListing.SHA256_HEADER).orElse(null);
      if (n != e.size() || expected != null && !expected.equalsIgnoreCase(got)) {
        throw new IOException(e.path() + ": received " + n + " bytes with SHA-256 " + got + ", expected " + e.size()
            + " bytes" + (expected == null ? "" : " with SHA-256 " + expected));
      }
      Files.move(tmp, target);
      return got;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private HttpResponse<InputStream> send(String url) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofHours(1)).GET();
    String t = token.get();
    if (t != null) {
      b.header("Authorization", "Bearer " + t);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  private static LogClient.LogException refusal(int status, byte[] body) {
    String message = new String(body, StandardCharsets.UTF_8).strip();
    try {
      var e = Json.mapper().readValue(body, dev.nixek.ci.protocol.ReportError.class);
      message = e.error() + ": " + e.message();
    } catch (IOException ignored) {
      // not JSON: the start of the text
    }
    if (message.length() > 500) {
      message = message.substring(0, 500) + "...";
    }
    return new LogClient.LogException(status, "the report API answered HTTP " + status + ": " + message);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
