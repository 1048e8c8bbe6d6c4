package dev.nixek.ci.report;

import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredChunk;
import dev.nixek.ci.common.logs.StoredLog;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link LogStore} in memory, with the contract's checks (a chunk must continue the log; the same chunk again is
 * harmless; nothing after sealing). For tests — several report API instances share one to act as replicas of one
 * store — and for the read side's tests, which write chunks straight into it ({@link #append}).
 */
final class MemoryLogStore implements LogStore {
  private final Map<StepLog, Step> steps = new HashMap<>();
  /** Calls of {@link #put} (tests count store writes). */
  final AtomicInteger puts = new AtomicInteger();
  /** Set by tests: every put fails as a disk or S3 outage would. */
  volatile boolean failPuts;

  private static final class Step {
    final List<byte[]> chunks = new ArrayList<>();
    final List<StoredChunk> meta = new ArrayList<>();
    long bytes;
    boolean sealed;
    Instant written = Instant.now();
  }

  /** Appends {@code data} as the step's next chunk (what ingest would have stored). */
  synchronized void append(StepLog log, byte[] data) throws IOException {
    StoredLog now = state(log);
    put(log, now.chunks(), now.bytes(), data);
  }

  @Override
  public synchronized void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
    puts.incrementAndGet();
    if (failPuts) {
      throw new IOException("the store is down (test)");
    }
    Step s = steps.computeIfAbsent(log, l -> new Step());
    if (seq < s.meta.size()) {
      StoredChunk c = s.meta.get((int) seq);
      if (c.offset() == offset && c.sha256().equals(OutputIngest.sha256(data))) {
        return;
      }
      throw new IOException("chunk " + seq + " of " + log + " is stored with other bytes");
    }
    if (s.sealed) {
      throw new IOException(log + " is sealed");
    }
    if (seq != s.meta.size() || offset != s.bytes) {
      throw new IOException("chunk " + seq + " at " + offset + " does not continue " + log + " (" + s.meta.size()
          + " chunks, " + s.bytes + " bytes)");
    }
    s.chunks.add(data.clone());
    s.meta.add(new StoredChunk(seq, offset, data.length, OutputIngest.sha256(data)));
    s.bytes += data.length;
    s.written = Instant.now();
  }

  @Override
  public synchronized Optional<StoredChunk> chunk(StepLog log, long seq) {
    Step s = steps.get(log);
    return s == null || seq < 0 || seq >= s.meta.size() ? Optional.empty() : Optional.of(s.meta.get((int) seq));
  }

  @Override
  public synchronized StoredLog state(StepLog log) {
    Step s = steps.get(log);
    return s == null ? StoredLog.EMPTY : new StoredLog(s.meta.size(), s.bytes, s.sealed);
  }

  /** Runs before every seal, outside the store's lock: a test can make seals slow. */
  volatile Runnable beforeSeal = () -> { };

  @Override
  public void seal(StepLog log) {
    beforeSeal.run();
    synchronized (this) {
      steps.computeIfAbsent(log, l -> new Step()).sealed = true;
    }
  }

  @Override
  public long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    List<byte[]> chunks;
    synchronized (this) {
      Step s = steps.get(log);
      chunks = s == null ? List.of() : new ArrayList<>(s.chunks);
    }
    long pos = 0;
    long copied = 0;
    for (byte[] c : chunks) {
      long end = pos + c.length;
      if (end > from && copied < maxBytes) {
        int start = (int) Math.max(0, from - pos);
        int n = (int) Math.min(c.length - start, maxBytes - copied);
        out.write(c, start, n);
        copied += n;
      }
      pos = end;
    }
    return copied;
  }

  @Override
  public synchronized void delete(JobLogs job) {
    steps.keySet().removeIf(l -> l.job().equals(job));
  }

  @Override
  public synchronized List<StoredJob> jobs() {
    Map<JobLogs, Instant> last = new HashMap<>();
    steps.forEach((l, s) -> last.merge(l.job(), s.written, (a, b) -> a.isAfter(b) ? a : b));
    List<StoredJob> out = new ArrayList<>();
    last.forEach((j, t) -> out.add(new StoredJob(j, t)));
    return out;
  }

  @Override
  public void close() {}
}
