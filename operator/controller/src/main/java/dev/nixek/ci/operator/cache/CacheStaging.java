package dev.nixek.ci.operator.cache;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nixek.ci.operator.aws.AwsClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.presigner.model.UploadPartPresignRequest;

/**
 * The staging upload of a builder pod's cache bundle: like the image's ({@code ImageUploads}), one multipart upload
 * of exactly one key — under the domain's {@code staging/}, which the cache's view never serves — that the operator
 * starts, hands the pod as presigned part URLs ({@value #GRANT_KEY} in the pod's grant Secret) and completes from
 * S3's own list of parts once the pod reports the bundle's size. The pod can write that one object and nothing else;
 * the cache's own keys are written by the operator alone ({@code CachePublisher}).
 */
public final class CacheStaging {
  /** The grant's key in the builder's grant Secret, beside the image's {@code upload.json}. */
  public static final String GRANT_KEY = "cache.json";
  /** The pod annotation that names the staging upload (the operator completes it; the key it derives again). */
  public static final String UPLOAD_ID_ANNOTATION = "ci.nixek.dev/cache-upload-id";
  /** What {@link #complete} says of an upload that is gone: another image of the pod completed (and published) it. */
  public static final String GONE = "the staging upload is gone (completed for another image of the pod)";
  /** Part URLs in a grant: the builder grows its part size to fit (32 × 5 GiB at most), and the Secret stays small. */
  static final int PARTS = 32;
  static final Duration MAX_LIFETIME = Duration.ofDays(7);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AwsClients aws;
  private final String bucket;

  public CacheStaging(AwsClients aws, String bucket) {
    this.aws = aws;
    this.bucket = bucket;
  }

  /** What a builder pod may write for the cache: one key, through these part URLs. */
  public record Grant(String bucket, String key, String uploadId, List<String> urls) {
    /** The grant file's JSON, as the builder's {@code --cache-grant} reads it. */
    public String json() {
      ObjectNode json = JSON.createObjectNode().put("bucket", bucket).put("key", key);
      urls.forEach(json.putArray("urls")::add);
      return json.toString();
    }
  }

  /** Starts the upload of {@code key} and presigns its part URLs for {@code lifetime} (at most 7 days). */
  public Grant open(String key, Duration lifetime) {
    String region = aws.defaultRegion();
    String uploadId = aws.s3(region).createMultipartUpload(b -> b.bucket(bucket).key(key)
        .contentType("application/zip")).uploadId();
    Duration valid = lifetime.compareTo(MAX_LIFETIME) > 0 ? MAX_LIFETIME : lifetime;
    List<String> urls = new ArrayList<>();
    var presigner = aws.presigner(region);
    for (int part = 1; part <= PARTS; part++) {
      int number = part;
      urls.add(presigner.presignUploadPart(UploadPartPresignRequest.builder().signatureDuration(valid)
          .uploadPartRequest(r -> r.bucket(bucket).key(key).uploadId(uploadId).partNumber(number))
          .build()).url().toString());
    }
    return new Grant(bucket, key, uploadId, List.copyOf(urls));
  }

  /**
   * Completes the upload with the parts S3 holds, after checking they are numbered 1..n and add up to {@code size}
   * (what the builder reports); empty when the object is there, else why not (the upload is then aborted).
   */
  public Optional<String> complete(String key, String uploadId, long size) {
    S3Client s3 = aws.s3(aws.defaultRegion());
    List<Part> parts = new ArrayList<>();
    try {
      s3.listPartsPaginator(b -> b.bucket(bucket).key(key).uploadId(uploadId)).parts().forEach(parts::add);
    } catch (NoSuchUploadException e) {
      return Optional.of(GONE);
    }
    if (parts.isEmpty() && exists(s3, key)) {
      // S3-compatible stores list a completed upload's parts as none instead of NoSuchUpload
      return Optional.of(GONE);
    }
    long total = 0;
    List<CompletedPart> completed = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      if (p.partNumber() != i + 1) {
        abort(key, uploadId);
        return Optional.of("the staging upload's parts are not numbered 1.." + parts.size());
      }
      total += p.size();
      completed.add(CompletedPart.builder().partNumber(p.partNumber()).eTag(p.eTag()).build());
    }
    if (parts.isEmpty() || total != size) {
      abort(key, uploadId);
      return Optional.of("the builder reports a bundle of " + size + " bytes, but its staging upload holds " + total
          + " bytes in " + parts.size() + " parts");
    }
    s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
        .multipartUpload(m -> m.parts(completed)));
    return Optional.empty();
  }

  private boolean exists(S3Client s3, String key) {
    try {
      s3.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
      return false;
    } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  /** Aborts an upload that will not be completed (best effort: a lifecycle rule is the backstop). */
  public void abort(String key, String uploadId) {
    try {
      aws.s3(aws.defaultRegion()).abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
    } catch (NoSuchUploadException e) {
      // completed or aborted already
    }
  }
}
