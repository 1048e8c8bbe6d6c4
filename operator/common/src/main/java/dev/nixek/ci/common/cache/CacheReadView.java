package dev.nixek.ci.common.cache;

import java.io.InputStream;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The read-only HTTP view of one trust domain's cache, as Nix's {@code http://} substituter asks for it:
 * {@code nix-cache-info}, {@code <hash>.narinfo}, {@code nar/<file hash>.nar.xz}, answered from the domain's prefix
 * in S3 and nothing else (no listing, no other name reaches S3). Whoever serves it (the report API) checks the
 * caller's {@link CacheReadTokens read token} for the domain first.
 */
public final class CacheReadView {
  private final S3Client s3;
  private final String bucket;
  private final CacheLayout layout;

  /** A file of the cache: its body, length (-1 when unknown) and content type. */
  public record File(InputStream body, long length, String contentType) {}

  public CacheReadView(S3Client s3, String bucket, CacheLayout layout) {
    this.s3 = s3;
    this.bucket = bucket;
    this.layout = layout;
  }

  /**
   * The file at {@code path} of the cache whose URL names the domain's {@link CacheLayout#segment segment}, or
   * empty: a 404 to Nix.
   */
  public Optional<File> open(String segment, String path) {
    if (path.equals("nix-cache-info") && layout.objectKey(segment, "0".repeat(32) + ".narinfo").isPresent()) {
      byte[] info = CacheLayout.CACHE_INFO.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return Optional.of(new File(new java.io.ByteArrayInputStream(info), info.length, "text/x-nix-cache-info"));
    }
    Optional<String> key = layout.objectKey(segment, path);
    if (key.isEmpty()) {
      return Optional.empty();
    }
    try {
      ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket).key(key.get()));
      GetObjectResponse head = in.response();
      return Optional.of(new File(in, head.contentLength() == null ? -1 : head.contentLength(),
          path.endsWith(".narinfo") ? "text/x-nix-narinfo" : "application/x-nix-nar"));
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }
}
