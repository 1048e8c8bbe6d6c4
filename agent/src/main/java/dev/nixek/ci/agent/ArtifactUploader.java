package dev.nixek.ci.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.nixek.ci.protocol.AgentStep;
import dev.nixek.ci.protocol.ArtifactFile;
import dev.nixek.ci.protocol.ArtifactRefusal;
import dev.nixek.ci.protocol.ArtifactSpec;
import dev.nixek.ci.protocol.ArtifactUpload;
import dev.nixek.ci.protocol.Json;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.protocol.ReportPaths;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads a step's artifacts after it ran, succeeded or failed (docs/artifacts.md): for each file the globs match
 * inside the working directory ({@link ArtifactFinder}), its size and SHA-256, then {@code artifacts/upload} (the
 * report API answers a short-lived URL for exactly that file), the PUT of the bytes there, and
 * {@code artifacts/complete} (the report API checks the stored bytes and lists the file). A refused match, a file
 * over a limit or an upload that failed is reported with {@code artifacts/refused} and listed with its reason; none of
 * it fails the step. The job token goes only to the report API; the upload URL is never logged.
 */
final class ArtifactUploader {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactUploader.class);
  private static final int ATTEMPTS = 5;
  private static final int MAX_ANSWER = 64 * 1024;

  private final URI base;
  private final String authorization;
  private final String namespace;
  private final String name;
  private final ArtifactFinder finder;
  private final Duration backoff;

  ArtifactUploader(String reportUrl, String token, String namespace, String name, ArtifactFinder finder,
      Duration backoff) {
    this.base = URI.create(reportUrl.replaceAll("/+$", "") + "/");
    this.authorization = "Bearer " + token;
    this.namespace = namespace;
    this.name = name;
    this.finder = finder;
    this.backoff = backoff;
  }

  /** Uploads what step {@code index} declares; returns how many files were stored. */
  int upload(int index, AgentStep step) throws InterruptedException {
    int stored = 0;
    for (ArtifactSpec spec : step.artifacts()) {
      ArtifactFinder.Result r;
      try {
        r = finder.find(spec);
      } catch (IOException e) {
        refuse(index, spec.name(), String.join(" ", spec.paths()), "cannot search the working directory: "
            + e.getMessage());
        continue;
      }
      for (ArtifactFinder.Refused x : r.refused()) {
        LOG.warn("step {} artifact {}: {} {}", index, spec.name(), x.path(), x.reason());
        refuse(index, spec.name(), x.path(), x.reason());
      }
      if (r.found().isEmpty() && r.refused().isEmpty()) {
        LOG.info("step {} artifact {}: no file matches {}", index, spec.name(), spec.paths());
      }
      for (ArtifactFinder.Found f : r.found()) {
        String problem = uploadOne(index, spec.name(), f);
        if (problem == null) {
          stored++;
        } else {
          LOG.warn("step {} artifact {}: {} not stored: {}", index, spec.name(), f.path(), problem);
          refuse(index, spec.name(), f.path(), problem);
        }
      }
    }
    return stored;
  }

  /** Null when stored, else why not. */
  private String uploadOne(int index, String artifact, ArtifactFinder.Found f) throws InterruptedException {
    long size;
    String sha;
    try {
      size = Files.size(f.file());
      sha = sha256(f.file());
    } catch (IOException e) {
      return "cannot read it: " + e.getMessage();
    }
    ArtifactFile file = new ArtifactFile(artifact, f.path(), size, sha);
    Answer a = post(index, ReportPaths.ARTIFACT_UPLOAD, file);
    if (a.status != 200) {
      return a.error();
    }
    ArtifactUpload target;
    try {
      target = Json.mapper().readValue(a.body, ArtifactUpload.class);
    } catch (IOException e) {
      return "the report API's answer is not an upload target";
    }
    long started = System.nanoTime();
    String put = put(target, f.file());
    if (put != null) {
      return put;
    }
    LOG.info("step {} artifact {}: {} ({} bytes) uploaded in {} ms", index, artifact, f.path(), size,
        (System.nanoTime() - started) / 1_000_000);
    Answer done = post(index, ReportPaths.ARTIFACT_COMPLETE, file);
    return done.status == 200 ? null : done.error();
  }

  private String put(ArtifactUpload target, Path file) throws InterruptedException {
    URI url = base.resolve(target.url().startsWith("/") ? target.url().substring(1) : target.url());
    for (int attempt = 1; ; attempt++) {
      HttpRequest.Builder b;
      try {
        b = HttpRequest.newBuilder(url).timeout(Duration.ofHours(1)).PUT(HttpRequest.BodyPublishers.ofFile(file));
      } catch (java.io.FileNotFoundException e) {
        return "the file vanished before its upload";
      }
      target.headers().forEach(b::header);
      // no Authorization header: the URL is the credential (S3 must never see the job token)
      int status;
      String body;
      try {
        HttpResponse<InputStream> r = AgentHttp.client().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        status = r.statusCode();
        try (InputStream in = r.body()) {
          body = new String(in.readNBytes(2048), StandardCharsets.UTF_8).strip();
        }
      } catch (IOException e) {
        if (attempt >= ATTEMPTS) {
          return "the upload failed: " + e.getClass().getSimpleName();
        }
        Thread.sleep(backoff.toMillis() * attempt);
        continue;
      }
      if (status >= 200 && status < 300) {
        return null;
      }
      if ((status >= 500 || status == 408 || status == 429) && attempt < ATTEMPTS) {
        Thread.sleep(backoff.toMillis() * attempt);
        continue;
      }
      return "the upload was refused: HTTP " + status + (body.isEmpty() ? "" : " " + brief(body));
    }
  }

  private void refuse(int index, String artifact, String path, String reason) throws InterruptedException {
    Answer a = post(index, ReportPaths.ARTIFACT_REFUSED, new ArtifactRefusal(artifact, path, reason));
    if (a.status != 200) {
      LOG.warn("step {} artifact {}: the refusal of {} was not recorded: {}", index, artifact, path, a.error());
    }
  }

  private record Answer(int status, byte[] body) {
    String error() {
      if (status == 0) {
        return new String(body, StandardCharsets.UTF_8);
      }
      try {
        ReportError e = Json.mapper().readValue(body, ReportError.class);
        return e.error() + ": " + e.message();
      } catch (IOException ex) {
        return "HTTP " + status;
      }
    }
  }

  /** One JSON call to the report API with the job token, retried on 5xx/408/429 and lost connections. */
  private Answer post(int index, String what, Object report) throws InterruptedException {
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(report);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    URI uri = base.resolve(ReportPaths.step(namespace, name, index, what).substring(1));
    for (int attempt = 1; ; attempt++) {
      HttpRequest request = HttpRequest.newBuilder(uri)
          .timeout(Duration.ofMinutes(30)) // complete reads a large file back
          .header("Content-Type", "application/json")
          .header("Authorization", authorization)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
      try {
        HttpResponse<InputStream> r = AgentHttp.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
        byte[] answer;
        try (InputStream in = r.body()) {
          answer = in.readNBytes(MAX_ANSWER);
        }
        int s = r.statusCode();
        if ((s >= 500 || s == 408 || s == 429) && attempt < ATTEMPTS) {
          Thread.sleep(backoff.toMillis() * attempt);
          continue;
        }
        return new Answer(s, answer);
      } catch (IOException e) {
        if (attempt >= ATTEMPTS) {
          return new Answer(0, ("the report API could not be reached: " + e.getClass().getSimpleName())
              .getBytes(StandardCharsets.UTF_8));
        }
        Thread.sleep(backoff.toMillis() * attempt);
      }
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[256 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static String brief(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
