package dev.nixek.ci.common.logs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The log store in an S3 bucket under a key prefix; layout in docs/logs.md#store-layout. S3 has no append, so each
 * chunk is its own object ({@code .../steps/<i>/unsealed/<seq>}, offset and SHA-256 in its metadata), and sealing
 * streams them, checked, into {@code .../steps/<i>/log} (one PUT, or a multipart upload of 8 MiB parts) after
 * writing {@code log.index}, and only then deletes them. Keys are chosen so that one LIST of a step's prefix tells
 * the whole story: {@code log} and {@code log.index} sort before every {@code unsealed/} key.
 *
 * <p>Why not UploadPartCopy of the chunk objects: every part but the last must be at least 5 MiB and chunks are
 * 1–64 KiB, so chunks cannot be parts; streaming them through costs one read of the log and lets sealing check each
 * chunk's offset and SHA-256. Chunk GETs run 8 at a time (sealing and reading an unsealed log), so a seal is not
 * 3,200 round trips in a row. Memory: one part (8 MiB) per seal in progress, plus the index (44 bytes a chunk).
 */
public final class S3LogStore implements LogStore {
  static final int PART_SIZE = 8 << 20;
  private static final int WINDOW = 8;
  private static final int DELETE_BATCH = 1000;
  private static final String LOG = "log";
  private static final String INDEX = "log.index";
  private static final String CHUNKS = "unsealed/";
  private static final String META_OFFSET = "offset";
  private static final String META_SHA256 = "sha256";

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final boolean closeClient;
  private final ExecutorService fetcher;

  /**
   * A store in {@code bucket} under {@code prefix} ("" or ending in '/'); closes {@code s3} on {@link #close} when
   * {@code closeClient}.
   */
  public S3LogStore(S3Client s3, String bucket, String prefix, boolean closeClient) {
    if (bucket == null || bucket.isEmpty()) {
      throw new IllegalArgumentException("a bucket is required");
    }
    if (prefix == null || prefix.startsWith("/") || !(prefix.isEmpty() || prefix.endsWith("/"))) {
      throw new IllegalArgumentException("the key prefix must be empty or end with '/', not start with it: " + prefix);
    }
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
    this.closeClient = closeClient;
    AtomicInteger n = new AtomicInteger();
    this.fetcher = Executors.newFixedThreadPool(WINDOW, r -> {
      Thread t = new Thread(r, "nixek-log-store-s3-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  public String bucket() {
    return bucket;
  }

  public String prefix() {
    return prefix;
  }

  @Override
  public void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
    ChunkIndex.checkPut(seq, offset, data);
    String key = stepKey(log) + CHUNKS + ChunkIndex.seqName(seq);
    try {
      s3.putObject(b -> b.bucket(bucket).key(key).contentType("application/octet-stream")
              .metadata(Map.of(META_OFFSET, Long.toString(offset), META_SHA256, ChunkIndex.sha256Hex(data))),
          RequestBody.fromBytes(data));
    } catch (SdkException e) {
      throw io("PUT", key, e);
    }
  }

  @Override
  public Optional<StoredChunk> chunk(StepLog log, long seq) throws IOException {
    if (seq < 0) {
      return Optional.empty();
    }
    String step = stepKey(log);
    String key = step + CHUNKS + ChunkIndex.seqName(seq);
    try {
      HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(key));
      return Optional.of(stored(seq, key, head.metadata(), head.contentLength()));
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw io("HEAD", key, e);
      }
    } catch (SdkException e) {
      throw io("HEAD", key, e);
    }
    // sealed (or being sealed): log.index was written before any chunk object was deleted
    long from = seq * ChunkIndex.SIZE;
    String index = step + INDEX;
    try {
      byte[] record = s3.getObjectAsBytes(b -> b.bucket(bucket).key(index)
          .range("bytes=" + from + "-" + (from + ChunkIndex.SIZE - 1))).asByteArray();
      return record.length == ChunkIndex.SIZE ? Optional.of(ChunkIndex.decode(seq, record)) : Optional.empty();
    } catch (S3Exception e) {
      if (e.statusCode() == 404 || e.statusCode() == 416) {
        return Optional.empty();
      }
      throw io("GET", index, e);
    } catch (SdkException e) {
      throw io("GET", index, e);
    }
  }

  @Override
  public StoredLog state(StepLog log) throws IOException {
    String step = stepKey(log);
    try {
      Listing listing = list(step);
      if (listing.sealed()) {
        return new StoredLog(listing.indexSize / ChunkIndex.SIZE, listing.logSize, true);
      }
      long n = 0;
      long bytes = 0;
      while (listing.chunks.hasNext()) {
        S3ChunkRefs.ChunkRef c = listing.chunks.next();
        n++;
        bytes = c.end();
      }
      return n == 0 ? StoredLog.EMPTY : new StoredLog(n, bytes, false);
    } catch (SdkException e) {
      throw io("LIST", step, e);
    }
  }

  @Override
  public void seal(StepLog log) throws IOException {
    String step = stepKey(log);
    try {
      Listing listing = list(step);
      if (!listing.sealed()) {
        try {
          compact(step, listing.chunks);
        } catch (ChunkGone e) {
          if (!list(step).sealed()) {
            throw e; // not another replica sealing at the same time: a real loss
          }
        }
      }
      deleteUnder(step + CHUNKS);
    } catch (SdkException e) {
      throw io("seal", step, e);
    }
  }

  private void compact(String step, Iterator<S3ChunkRefs.ChunkRef> chunks) throws IOException {
    ByteArrayOutputStream index = new ByteArrayOutputStream();
    S3PartWriter out = new S3PartWriter(s3, bucket, step + LOG, PART_SIZE);
    try {
      long[] expected = {0};
      long[] count = {0};
      fetchInOrder(chunks, f -> {
        StoredChunk c = stored(f.ref.seq(), f.ref.key(), f.metadata, f.data.length);
        if (c.offset() != expected[0] || !ChunkIndex.sha256Hex(f.data).equals(c.sha256())) {
          throw new IOException("cannot seal " + step + ": chunk " + f.ref.seq() + " is " + c + " and its bytes' "
              + "SHA-256 is " + ChunkIndex.sha256Hex(f.data) + ", expected offset " + expected[0]);
        }
        out.write(f.data);
        index.writeBytes(ChunkIndex.encode(c));
        expected[0] = c.end();
        count[0]++;
        return true;
      });
      // log.index first: whoever sees the log also finds every chunk's record (chunk() after sealing)
      String indexKey = step + INDEX;
      s3.putObject(b -> b.bucket(bucket).key(indexKey).contentType("application/octet-stream"),
          RequestBody.fromBytes(index.toByteArray()));
      out.finish(Map.of("chunks", Long.toString(count[0])));
    } finally {
      out.abortIfUnfinished();
    }
  }

  @Override
  public long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    if (from < 0 || maxBytes < 0) {
      throw new IllegalArgumentException("from and maxBytes must be >= 0, were " + from + " and " + maxBytes);
    }
    String step = stepKey(log);
    long copied = 0;
    try {
      for (int attempt = 1; ; attempt++) {
        Listing listing = list(step);
        if (listing.sealed()) {
          return copied + readSealed(step + LOG, listing.logSize, from + copied, maxBytes - copied, out);
        }
        long[] done = {0};
        long start = from + copied;
        long want = maxBytes - copied;
        try {
          fetchInOrder(S3ChunkRefs.from(listing.chunks, start, want), f -> {
            long skip = Math.max(0, start + done[0] - f.ref.offset());
            int n = (int) Math.min(f.data.length - skip, want - done[0]);
            if (n > 0) {
              out.write(f.data, (int) skip, n);
              done[0] += n;
            }
            return done[0] < want;
          });
          return copied + done[0];
        } catch (ChunkGone e) {
          copied += done[0]; // sealed (or deleted) under us: the rest comes from the sealed log, if any
          if (attempt >= 5) {
            throw e;
          }
        }
      }
    } catch (SdkException e) {
      throw io("read", step, e);
    }
  }

  private long readSealed(String key, long size, long from, long maxBytes, OutputStream out) throws IOException {
    long last = Math.min(size, saturatedEnd(from, maxBytes)) - 1;
    if (from >= size || maxBytes == 0) {
      return 0;
    }
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key)
        .range("bytes=" + from + "-" + last))) {
      long n = in.transferTo(out);
      if (n != last - from + 1) {
        throw new IOException("GET " + key + " gave " + n + " bytes, expected " + (last - from + 1));
      }
      return n;
    }
  }

  /** {@code from + maxBytes}, or Long.MAX_VALUE where that overflows ("everything from here" is often MAX_VALUE). */
  static long saturatedEnd(long from, long maxBytes) {
    return maxBytes > Long.MAX_VALUE - from ? Long.MAX_VALUE : from + maxBytes;
  }

  @Override
  public void delete(JobLogs job) throws IOException {
    String base = prefix + LogNames.jobPath(job) + "/";
    try {
      deleteUnder(base);
      // a seal that crashed mid-upload leaves parts that are billed but not listed as objects
      for (var upload : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(base)).uploads()) {
        s3.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
      }
    } catch (SdkException e) {
      throw io("delete", base, e);
    }
  }

  @Override
  public List<StoredJob> jobs() throws IOException {
    Map<JobLogs, Instant> newest = new HashMap<>();
    try {
      for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
        String[] parts = o.key().substring(prefix.length()).split("/", 4);
        if (parts.length < 4) {
          continue;
        }
        LogNames.parseJob(parts[0], parts[1], parts[2])
            .ifPresent(job -> newest.merge(job, o.lastModified(), (a, b) -> a.isAfter(b) ? a : b));
      }
    } catch (SdkException e) {
      throw io("LIST", prefix, e);
    }
    List<StoredJob> out = new ArrayList<>();
    newest.forEach((job, t) -> out.add(new StoredJob(job, t)));
    return out;
  }

  @Override
  public void close() {
    fetcher.shutdownNow();
    if (closeClient) {
      s3.close();
    }
  }

  private String stepKey(StepLog log) {
    return prefix + LogNames.stepPath(log) + "/";
  }

  /** What one LIST of a step's prefix says: sealed (log and index sizes), else its chunks from 0 until a gap. */
  private Listing list(String step) throws IOException {
    Iterator<S3Object> it = s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(step)).contents().iterator();
    S3Object first = it.hasNext() ? it.next() : null;
    if (first != null && first.key().equals(step + LOG)) {
      S3Object index = it.hasNext() ? it.next() : null;
      if (index == null || !index.key().equals(step + INDEX)) {
        throw new IOException(step + LOG + " has no " + INDEX + " next to it");
      }
      return new Listing(first.size(), index.size(), null);
    }
    return new Listing(-1, -1, S3ChunkRefs.contiguous(step + CHUNKS, first, it));
  }

  /** GETs the chunks {@value #WINDOW} at a time and hands them to {@code consumer} in order, until it says stop. */
  private void fetchInOrder(Iterator<S3ChunkRefs.ChunkRef> refs, ChunkConsumer consumer) throws IOException {
    ArrayDeque<Future<Fetched>> window = new ArrayDeque<>();
    try {
      while (true) {
        while (window.size() < WINDOW && refs.hasNext()) {
          S3ChunkRefs.ChunkRef r = refs.next();
          window.add(fetcher.submit(() -> fetch(r)));
        }
        Future<Fetched> head = window.poll();
        if (head == null || !consumer.accept(await(head))) {
          return;
        }
      }
    } finally {
      window.forEach(f -> f.cancel(false));
    }
  }

  private Fetched fetch(S3ChunkRefs.ChunkRef r) throws IOException {
    try {
      var bytes = s3.getObjectAsBytes(b -> b.bucket(bucket).key(r.key()));
      byte[] data = bytes.asByteArray();
      if (data.length != r.size()) {
        throw new IOException("GET " + r.key() + " gave " + data.length + " bytes, LIST said " + r.size());
      }
      return new Fetched(r, bytes.response().metadata(), data);
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw new ChunkGone(r.key());
      }
      throw io("GET", r.key(), e);
    } catch (SdkException e) {
      throw io("GET", r.key(), e);
    }
  }

  private static Fetched await(Future<Fetched> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(e.getCause());
    }
  }

  private void deleteUnder(String keyPrefix) throws IOException {
    List<ObjectIdentifier> batch = new ArrayList<>();
    for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(keyPrefix)).contents()) {
      batch.add(ObjectIdentifier.builder().key(o.key()).build());
      if (batch.size() == DELETE_BATCH) {
        deleteBatch(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      deleteBatch(batch);
    }
  }

  private void deleteBatch(List<ObjectIdentifier> keys) throws IOException {
    DeleteObjectsResponse r = s3.deleteObjects(b -> b.bucket(bucket)
        .delete(Delete.builder().objects(keys).quiet(true).build()));
    if (r.hasErrors() && !r.errors().isEmpty()) {
      var e = r.errors().get(0);
      throw new IOException("DeleteObjects in " + bucket + ": " + r.errors().size() + " failed, first " + e.key()
          + ": " + e.code() + " " + e.message());
    }
  }

  private static StoredChunk stored(long seq, String key, Map<String, String> meta, long length) throws IOException {
    String sha = meta.get(META_SHA256);
    try {
      if (sha == null || !sha.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("no sha256");
      }
      return new StoredChunk(seq, Long.parseLong(meta.get(META_OFFSET)), Math.toIntExact(length), sha);
    } catch (RuntimeException e) {
      throw new IOException(key + " lacks its offset/sha256 metadata: " + meta, e);
    }
  }

  private IOException io(String op, String key, SdkException e) {
    return new IOException("S3 " + op + " s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
  }

  private record Listing(long logSize, long indexSize, Iterator<S3ChunkRefs.ChunkRef> chunks) {
    boolean sealed() {
      return logSize >= 0;
    }
  }

  private record Fetched(S3ChunkRefs.ChunkRef ref, Map<String, String> metadata, byte[] data) {}

  @FunctionalInterface
  private interface ChunkConsumer {
    boolean accept(Fetched f) throws IOException;
  }

  /** A chunk object vanished between LIST and GET: sealing or deletion removed it. */
  private static final class ChunkGone extends IOException {
    ChunkGone(String key) {
      super("chunk object " + key + " was removed while it was read");
    }
  }
}
