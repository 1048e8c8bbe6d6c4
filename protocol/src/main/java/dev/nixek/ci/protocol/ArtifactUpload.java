package dev.nixek.ci.protocol;

import java.util.Map;

/**
 * Where to PUT one artifact file, as the report API answers {@code artifacts/upload}: a short-lived URL (absolute for
 * S3's presigned URLs; relative to the report API's base URL for the local store's signed URLs) and the headers to
 * send with the body. The URL is the credential: the agent never logs it.
 *
 * @param url where to PUT the file's bytes
 * @param headers headers the PUT must carry (they are part of the signature)
 * @param expiresAt when the URL stops working (RFC 3339)
 */
public record ArtifactUpload(String url, Map<String, String> headers, String expiresAt) {
  public ArtifactUpload {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  @Override
  public String toString() {
    return "ArtifactUpload[url=<redacted>, expiresAt=" + expiresAt + "]";
  }
}
