package dev.nixek.ci.builder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads the image through an upload grant (docs/images.md#the-upload): presigned UploadPart URLs of one multipart
 * upload of one key, which the operator started and will complete. The pod has no AWS identity, so these URLs are all
 * it can do in S3: no other key, no listing, no reading, no completing. One pass: each part is read, hashed into the
 * image's SHA-256 and sent; memory is one part buffer.
 */
final class PresignedUpload {
  /** S3's smallest part (all but the last) and largest. */
  static final long MIN_PART = 5 * PartPlan.MIB;
  static final long MAX_PART = 5L * 1024 * PartPlan.MIB;
  private static final int ATTEMPTS = 3;
  private static final Logger LOG = LoggerFactory.getLogger(PresignedUpload.class);

  /** The grant file: the bucket and key it is for, and one URL per part number (1..n). */
  record Grant(String bucket, String key, List<URI> urls) {
    static Grant read(Path file) throws BuilderException {
      JsonNode json;
      try {
        json = new ObjectMapper().readTree(Files.readString(file));
      } catch (IOException e) {
        throw BuilderException.usage("cannot read the upload grant " + file + ": " + e.getMessage());
      }
      List<URI> urls = new ArrayList<>();
      json.path("urls").forEach(u -> urls.add(URI.create(u.asText())));
      if (!json.path("bucket").isTextual() || !json.path("key").isTextual() || urls.isEmpty()) {
        throw BuilderException.usage("the upload grant " + file + " has no bucket, key or part URLs");
      }
      return new Grant(json.get("bucket").asText(), json.get("key").asText(), List.copyOf(urls));
    }
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final int partSize;

  PresignedUpload(int partSize) {
    this.partSize = partSize;
  }

  /** Uploads {@code file} through {@code grant}, which must be for {@code bucket}/{@code key}. */
  UploadResult upload(Path file, Grant grant, String bucket, String key) throws BuilderException,
      InterruptedException {
    if (!grant.bucket().equals(bucket) || !grant.key().equals(key)) {
      throw BuilderException.usage("the upload grant is for s3://" + grant.bucket() + "/" + grant.key() + ", not s3://"
          + bucket + "/" + key);
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw BuilderException.upload("cannot read " + file + ": " + e.getMessage(), e);
    }
    int parts = grant.urls().size();
    long part = partSize(size, partSize, parts);
    int count = size == 0 ? 1 : (int) ((size + part - 1) / part);
    MultipartUploader.checkHeap(PartPlan.of(size, (int) part), Runtime.getRuntime().maxMemory());
    byte[] buffer = new byte[(int) Math.min(part, Math.max(size, 1))];
    MessageDigest digest = FileParts.sha256();
    long start = System.nanoTime();
    try (FileParts reader = new FileParts(file)) {
      for (int number = 1; number <= count; number++) {
        int length = (int) Math.min(part, size - (number - 1) * part);
        reader.readFully(buffer, length);
        digest.update(buffer, 0, length);
        send(grant.urls().get(number - 1), number, buffer, length);
      }
      if (reader.hasMore()) {
        throw BuilderException.upload(file + " grew while it was uploaded", null);
      }
    } catch (IOException e) {
      throw BuilderException.upload("reading " + file + " failed during upload: " + e.getMessage(), e);
    }
    String sha256 = HexFormat.of().formatHex(digest.digest());
    LOG.info("uploaded {} bytes to s3://{}/{} in {} parts of {} MiB through the upload grant in {} ms (sha256 {})",
        size, bucket, key, count, part / PartPlan.MIB, (System.nanoTime() - start) / 1_000_000, sha256);
    return new UploadResult(size, sha256, true, count, (int) part);
  }

  /**
   * The part size: the configured one, grown (in whole MiB) until the image fits in the grant's parts; refused past
   * S3's 5 GiB per part.
   */
  static long partSize(long size, int configured, int parts) throws BuilderException {
    long part = Math.max(configured, MIN_PART);
    if (size > part * parts) {
      long needed = (size + parts - 1) / parts;
      part = (needed + PartPlan.MIB - 1) / PartPlan.MIB * PartPlan.MIB;
    }
    if (part > MAX_PART) {
      throw BuilderException.upload("an image of " + size + " bytes does not fit in the " + parts + " parts the "
          + "operator granted (NIXEK_BUILDER_UPLOAD_PARTS) at S3's 5 GiB per part", null);
    }
    return part;
  }

  private void send(URI url, int number, byte[] buffer, int length) throws BuilderException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(5))
        .header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(buffer, 0, length)).build();
    String problem = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 == 2) {
          LOG.debug("part {} ({} bytes) sent", number, length);
          return;
        }
        // the URL's query string is its signature: only the status and S3's error code are said
        problem = "HTTP " + response.statusCode() + errorCode(response.body());
        if (response.statusCode() / 100 == 4) {
          break;
        }
      } catch (IOException e) {
        problem = e.toString();
      }
      Thread.sleep(1000L * attempt);
    }
    throw BuilderException.upload("uploading part " + number + " failed: " + problem, null);
  }

  private static String errorCode(String body) {
    int start = body == null ? -1 : body.indexOf("<Code>");
    int end = start < 0 ? -1 : body.indexOf("</Code>", start);
    return end < 0 ? "" : " (" + body.substring(start + 6, end) + ")";
  }
}
