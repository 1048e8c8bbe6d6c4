package dev.nixek.ci.operator.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import dev.nixek.ci.common.kube.Owners;
import dev.nixek.ci.operator.aws.AwsClients;
import dev.nixek.ci.operator.config.ImageOptions;
import dev.nixek.ci.operator.image.BuilderOutcome.Built;
import dev.nixek.ci.operator.pod.OneShotNixPod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.model.UploadPartPresignRequest;

/**
 * The upload of a builder pod that holds no AWS identity (docs/images.md#the-upload): the operator starts one
 * multipart upload of exactly one key, hands the pod presigned UploadPart URLs of that upload (a Secret), and
 * completes the upload itself from S3's own list of parts once the pod's result names that bucket and key and the
 * size the parts add up to. So the pod can write those parts and nothing else: no other key, no other bucket, no
 * completion, no listing or reading.
 */
final class ImageUploads {
  /** The one object of an image's identity, under {@link ImageNames#objectPrefix}. */
  static final String OBJECT_NAME = "disk-image";
  /** The pod annotation that names the upload the pod writes (the operator completes it). */
  static final String UPLOAD_ID_ANNOTATION = "ci.nixek.dev/upload-id";
  /** The Secret's key holding the grant ({@code {"bucket","key","urls":[...]}}). */
  static final String GRANT_KEY = "upload.json";
  /** A presigned URL lives at most this long (SigV4's limit). */
  static final Duration MAX_LIFETIME = Duration.ofDays(7);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final AwsClients aws;
  private final ImageOptions options;
  private final String clusterId;

  ImageUploads(AwsClients aws, ImageOptions options, String clusterId) {
    this.aws = aws;
    this.options = options;
    this.clusterId = clusterId;
  }

  /** What a builder pod may write: one key of one bucket, through these part URLs. */
  record Grant(String bucket, String key, String uploadId, List<String> urls) {}

  /** The object key of {@code t}'s image. */
  String key(ImageTarget t) {
    return ImageNames.objectPrefix(options.keyPrefix(), clusterId, t.id()) + OBJECT_NAME;
  }

  /**
   * Starts the multipart upload of {@code t}'s image and presigns its part URLs, each valid as long as the builder
   * pod may run (at most 7 days; with temporary credentials, such as IRSA's, no longer than they are).
   */
  Grant open(NixekMachineImage image, ImageTarget t) {
    String key = key(t);
    String uploadId = aws.s3(t.region()).createMultipartUpload(b -> b.bucket(t.bucket()).key(key)
        .contentType("application/octet-stream")
        .metadata(Map.of("identity", t.id().hash(), "image", image.getMetadata().getNamespace() + "/"
            + image.getMetadata().getName()))).uploadId();
    Duration lifetime = options.builderTimeout().plusMinutes(10);
    Duration valid = lifetime.compareTo(MAX_LIFETIME) > 0 ? MAX_LIFETIME : lifetime;
    List<String> urls = new ArrayList<>();
    var presigner = aws.presigner(t.region());
    for (int part = 1; part <= options.trust().uploadParts(); part++) {
      int number = part;
      urls.add(presigner.presignUploadPart(UploadPartPresignRequest.builder().signatureDuration(valid)
          .uploadPartRequest(r -> r.bucket(t.bucket()).key(key).uploadId(uploadId).partNumber(number))
          .build()).url().toString());
    }
    return new Grant(t.bucket(), key, uploadId, List.copyOf(urls));
  }

  /**
   * The name of the Secret holding {@code grant}: one per upload, so that two images of one identity starting the
   * shared builder pod at once never replace each other's grant (the pod mounts the one of the upload it names).
   */
  static String secretName(ImageTarget t, Grant grant) {
    return t.builderName() + "-" + ImageIdentity.sha256(grant.uploadId()).substring(0, 8);
  }

  /** The Secret the builder pod mounts: the grant, owned by the image (Kubernetes deletes it with the image). */
  Secret secret(NixekMachineImage image, ImageTarget t, Grant grant) {
    ObjectNode json = JSON.createObjectNode().put("bucket", grant.bucket()).put("key", grant.key());
    grant.urls().forEach(json.putArray("urls")::add);
    return new SecretBuilder()
        .withMetadata(OneShotNixPod.metadata(secretName(t, grant), image.getMetadata().getNamespace(),
            BuilderPods.COMPONENT, Owners.controller(image)).build())
        .withImmutable(true)
        .withType("Opaque")
        .addToData(GRANT_KEY, Base64.getEncoder().encodeToString(json.toString().getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  /**
   * Why the builder's result is not the upload it was given, if it is not: another bucket or key (a builder that
   * had credentials of its own, or lies), or nothing uploaded. Empty when it names exactly the grant's object.
   */
  static Optional<String> mismatch(Built built, String bucket, String key) {
    if (!bucket.equals(built.bucket()) || !key.equals(built.key())) {
      return Optional.of("the builder's result names " + built.s3Uri() + ", but it was given s3://" + bucket + "/"
          + key + " to write: result refused");
    }
    return Optional.empty();
  }

  /**
   * Completes the upload {@code uploadId} with the parts S3 holds (never the pod's list) after checking that they
   * are numbered 1..n and add up to the size the builder reports; an upload completed before (a crash after the
   * call) is checked by its object's size. Empty when the object is complete and of that size, else the reason.
   */
  Optional<String> complete(ImageTarget t, String uploadId, Built built) {
    S3Client s3 = aws.s3(t.region());
    String key = key(t);
    List<Part> parts = new ArrayList<>();
    try {
      s3.listPartsPaginator(b -> b.bucket(t.bucket()).key(key).uploadId(uploadId)).parts().forEach(parts::add);
    } catch (NoSuchUploadException e) {
      return completedBefore(s3, t.bucket(), key, built.size());
    }
    long total = 0;
    List<CompletedPart> completed = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      Part p = parts.get(i);
      if (p.partNumber() != i + 1) {
        return Optional.of("the upload's parts are not numbered 1.." + parts.size() + " (part " + p.partNumber()
            + " at position " + (i + 1) + ")");
      }
      total += p.size();
      completed.add(CompletedPart.builder().partNumber(p.partNumber()).eTag(p.eTag()).build());
    }
    if (parts.isEmpty() || total != built.size()) {
      return Optional.of("the builder reports " + built.size() + " bytes, but its upload holds " + total + " bytes in "
          + parts.size() + " parts");
    }
    try {
      s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(t.bucket()).key(key)
          .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(completed).build()).build());
    } catch (NoSuchUploadException e) {
      return completedBefore(s3, t.bucket(), key, built.size());
    }
    return completedBefore(s3, t.bucket(), key, built.size());
  }

  /** Aborts an upload that will not be completed (best effort: a lifecycle rule is the backstop). */
  void abort(ImageTarget t, String uploadId) {
    try {
      aws.s3(t.region()).abortMultipartUpload(b -> b.bucket(t.bucket()).key(key(t)).uploadId(uploadId));
    } catch (NoSuchUploadException e) {
      // completed or aborted already
    }
  }

  private static Optional<String> completedBefore(S3Client s3, String bucket, String key, long size) {
    HeadObjectResponse head;
    try {
      head = s3.headObject(b -> b.bucket(bucket).key(key));
    } catch (NoSuchKeyException e) {
      return Optional.of("the upload of s3://" + bucket + "/" + key + " is gone and the object does not exist");
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.of("the upload of s3://" + bucket + "/" + key + " is gone and the object does not exist");
      }
      throw e;
    }
    return head.contentLength() == size ? Optional.empty() : Optional.of("s3://" + bucket + "/" + key + " holds "
        + head.contentLength() + " bytes, not the " + size + " the builder reports");
  }
}
