package dev.nixek.ci.builder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Uploads a file of any size to S3 as a multipart upload, with its SHA-256 in the object metadata, in memory
 * bounded by the part size: two part buffers (one being read and hashed while the other is sent).
 *
 * <p>Two passes over the file. S3 fixes user metadata when the upload is created, so the SHA-256 must be known
 * before the first part goes out: pass one hashes (it also decides whether an identical object already exists,
 * which makes a re-run free); pass two reads, hashes again and sends each part, and the upload completes only if
 * both hashes agree, so the metadata can never describe bytes other than the ones stored.
 */
public final class MultipartUploader {
  /** Metadata key of the content hash; S3 sends it as {@code x-amz-meta-sha256}. */
  public static final String SHA256_METADATA = "sha256";
  /**
   * Heap besides the part buffers. Measured live set after GC: the buffers + about 9 MiB (SDK, Jackson,
   * logging); the rest is room for the SDK's per-request garbage, or the collector runs back to back.
   */
  static final long HEAP_HEADROOM = 40 * PartPlan.MIB;

  private static final Logger LOG = LoggerFactory.getLogger(MultipartUploader.class);

  private final S3Client s3;
  private final int partSize;

  public MultipartUploader(S3Client s3, int partSize) {
    this.s3 = s3;
    this.partSize = partSize;
  }

  /**
   * Uploads {@code file} to {@code bucket/key} with {@code metadata} plus {@value #SHA256_METADATA}, or skips
   * the upload when an object of the same size and SHA-256 is already there.
   */
  public UploadResult upload(Path file, String bucket, String key, Map<String, String> metadata)
      throws BuilderException, InterruptedException {
    long size;
    PartPlan plan;
    try {
      size = Files.size(file);
      plan = PartPlan.of(size, partSize);
    } catch (IOException | IllegalArgumentException e) {
      throw BuilderException.upload("cannot upload " + file + ": " + e.getMessage(), e);
    }
    if (plan.partSize() != partSize) {
      LOG.info("part size raised from {} MiB to {} MiB to stay within {} parts",
          partSize / PartPlan.MIB, plan.partSize() / PartPlan.MIB, PartPlan.MAX_PARTS);
    }
    checkHeap(plan, Runtime.getRuntime().maxMemory());
    HeadObjectResponse existing;
    try {
      // first, before a pass over a many-GiB file: bad credentials, a missing bucket or a denied key fail now
      existing = head(bucket, key);
    } catch (SdkException e) {
      throw BuilderException.upload("S3 upload to s3://" + bucket + "/" + key + " failed: " + e.getMessage(), e);
    }
    byte[] first = new byte[size == 0 ? 0 : plan.partSize()];

    long hashStart = System.nanoTime();
    String sha256;
    try {
      sha256 = FileParts.sha256(file, size, first);
    } catch (IOException e) {
      throw BuilderException.upload("cannot read " + file + ": " + e.getMessage(), e);
    }
    LOG.info("sha256 {} of {} ({} bytes) in {}", sha256, file.getFileName(), size, rate(size, hashStart));

    try {
      if (existing != null && existing.contentLength() == size
          && sha256.equals(existing.metadata().get(SHA256_METADATA))) {
        LOG.info("s3://{}/{} already holds these {} bytes (same sha256): upload skipped", bucket, key, size);
        return new UploadResult(size, sha256, false, 0, plan.partSize());
      }
      if (existing != null) {
        LOG.info("s3://{}/{} exists with other content (size {}, sha256 {}): replacing it",
            bucket, key, existing.contentLength(), existing.metadata().get(SHA256_METADATA));
      }
      Map<String, String> meta = new HashMap<>(metadata);
      meta.put(SHA256_METADATA, sha256);

      long uploadStart = System.nanoTime();
      if (size == 0) {
        // a multipart upload of one empty part is not accepted by every S3 implementation; PutObject is
        s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key).metadata(meta).build(), RequestBody.empty());
        return new UploadResult(0, sha256, true, 0, plan.partSize());
      }
      multipart(file, bucket, key, meta, plan, first, sha256);
      LOG.info("uploaded s3://{}/{}: {} parts of {} MiB in {}", bucket, key, plan.partCount(),
          plan.partSize() / PartPlan.MIB, rate(size, uploadStart));
      return new UploadResult(size, sha256, true, plan.partCount(), plan.partSize());
    } catch (SdkException e) {
      throw BuilderException.upload("S3 upload to s3://" + bucket + "/" + key + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw BuilderException.upload("reading " + file + " failed during upload: " + e.getMessage(), e);
    }
  }

  /** Bytes of part buffers the upload of {@code plan} holds at once: two while parts overlap, else one. */
  static long buffersNeeded(PartPlan plan) {
    return (long) plan.partSize() * Math.min(2, plan.partCount());
  }

  /**
   * Refuses a part size the heap cannot hold: better a clear error at the start than an OutOfMemoryError
   * after the first pass over a many-GiB image.
   */
  static void checkHeap(PartPlan plan, long maxHeap) throws BuilderException {
    long needed = buffersNeeded(plan) + HEAP_HEADROOM;
    if (plan.size() > 0 && needed > maxHeap) {
      throw BuilderException.usage(String.format(
          "parts of %d MiB need about %d MiB of heap (two part buffers + %d MiB) but the maximum heap is %d MiB:"
              + " lower --part-size-mib or raise -Xmx",
          plan.partSize() / PartPlan.MIB, needed / PartPlan.MIB, HEAP_HEADROOM / PartPlan.MIB,
          maxHeap / PartPlan.MIB));
    }
  }

  private HeadObjectResponse head(String bucket, String key) {
    try {
      return s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build());
    } catch (NoSuchKeyException e) {
      return null;
    } catch (S3Exception e) {
      // HEAD has no body, so a missing key may arrive as a bare 404 rather than NoSuchKey
      if (e.statusCode() == 404) {
        return null;
      }
      if (e.statusCode() == 403) {
        // S3 answers 403, not 404, for a missing key when the caller may not list the bucket
        throw S3Exception.builder().statusCode(403).cause(e).message("HEAD " + key + " was denied (403):"
            + " check the credentials; the builder needs s3:GetObject on the key and s3:ListBucket on the bucket"
            + " (else a missing object is 403 too), plus s3:PutObject and s3:AbortMultipartUpload").build();
      }
      throw e;
    }
  }

  private void multipart(Path file, String bucket, String key, Map<String, String> metadata, PartPlan plan,
      byte[] first, String expectedSha256) throws IOException, InterruptedException, BuilderException {
    String uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder()
        .bucket(bucket).key(key).metadata(metadata)
        .contentType("application/octet-stream")
        .checksumAlgorithm(ChecksumAlgorithm.CRC32)
        .build()).uploadId();
    LOG.info("multipart upload {} of {} parts started", uploadId, plan.partCount());
    ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "s3-part-sender");
      t.setDaemon(true);
      return t;
    });
    // SIGTERM (pod deleted) mid-upload: abort so the bucket keeps no orphaned parts (which are billed). The
    // part being sent is let finish first: one that lands after the abort would be stored again.
    Thread abortOnExit = new Thread(() -> {
      sender.shutdownNow();
      awaitQuietly(sender);
      abort(bucket, key, uploadId);
    }, "abort-multipart-upload");
    Runtime.getRuntime().addShutdownHook(abortOnExit);
    boolean completed = false;
    try {
      byte[][] buffers = {first, plan.partCount() > 1 ? new byte[plan.partSize()] : null};
      List<CompletedPart> parts = new ArrayList<>(plan.partCount());
      MessageDigest digest = FileParts.sha256();
      Future<CompletedPart> inFlight = null;
      try (FileParts reader = new FileParts(file)) {
        for (int number = 1; number <= plan.partCount(); number++) {
          byte[] buffer = buffers[(number - 1) % 2];
          int length = plan.partLength(number);
          // the sender finished with this buffer: its part (number - 2) was awaited before part number - 1 went
          reader.readFully(buffer, length);
          digest.update(buffer, 0, length);
          String crc32 = crc32(buffer, length);
          if (inFlight != null) {
            parts.add(await(inFlight));
          }
          int partNumber = number;
          inFlight = sender.submit(() -> sendPart(bucket, key, uploadId, partNumber, buffer, length, crc32));
        }
        parts.add(await(inFlight));
        if (reader.hasMore()) {
          throw BuilderException.upload(file + " grew while it was uploaded", null);
        }
      }
      String sha256 = HexFormat.of().formatHex(digest.digest());
      if (!sha256.equals(expectedSha256)) {
        throw BuilderException.upload(file + " changed while it was uploaded (sha256 " + expectedSha256
            + " before, " + sha256 + " during)", null);
      }
      s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder()
          .bucket(bucket).key(key).uploadId(uploadId)
          .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())
          .build());
      completed = true;
    } finally {
      sender.shutdownNow();
      // a part still being sent could land after the abort and leave storage behind
      boolean interrupted = !awaitQuietly(sender);
      if (!completed) {
        abort(bucket, key, uploadId);
      }
      try {
        Runtime.getRuntime().removeShutdownHook(abortOnExit);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway; aborting twice is harmless
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private CompletedPart sendPart(String bucket, String key, String uploadId, int number, byte[] buffer, int length,
      String crc32) {
    // a provider, not RequestBody.fromBytes: that copies the part; the SDK calls newStream again on a retry
    RequestBody body = RequestBody.fromContentProvider(
        () -> new ByteArrayInputStream(buffer, 0, length), length, "application/octet-stream");
    UploadPartResponse response = s3.uploadPart(UploadPartRequest.builder()
        .bucket(bucket).key(key).uploadId(uploadId).partNumber(number)
        .contentLength((long) length)
        .checksumCRC32(crc32)
        .build(), body);
    LOG.debug("part {} ({} bytes) sent", number, length);
    return CompletedPart.builder().partNumber(number).eTag(response.eTag()).checksumCRC32(crc32).build();
  }

  /**
   * The part's CRC32 as S3 wants it (base64 of the big-endian value). Given with the request, S3 verifies each
   * part on arrival, and the SDK sends it as a header instead of computing it again into a chunked trailer.
   */
  static String crc32(byte[] buffer, int length) {
    CRC32 crc = new CRC32();
    crc.update(buffer, 0, length);
    long value = crc.getValue();
    byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static CompletedPart await(Future<CompletedPart> part) throws InterruptedException {
    try {
      return part.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(cause);
    }
  }

  /** Waits for the sender to finish its part; false if this thread was interrupted meanwhile. */
  private static boolean awaitQuietly(ExecutorService sender) {
    try {
      sender.awaitTermination(30, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }

  private void abort(String bucket, String key, String uploadId) {
    try {
      s3.abortMultipartUpload(AbortMultipartUploadRequest.builder()
          .bucket(bucket).key(key).uploadId(uploadId).build());
      LOG.info("multipart upload {} aborted", uploadId);
    } catch (NoSuchUploadException e) {
      // the other aborter (signal hook or failure path) was first
      LOG.debug("multipart upload {} was already aborted", uploadId);
    } catch (RuntimeException e) {
      // best effort: a bucket lifecycle rule (AbortIncompleteMultipartUpload) is the backstop
      LOG.warn("aborting multipart upload {} failed: {}", uploadId, e.toString());
    }
  }

  private static String rate(long bytes, long startNanos) {
    double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    return String.format("%.2f s (%.0f MiB/s)", seconds, bytes / (double) PartPlan.MIB / seconds);
  }
}
