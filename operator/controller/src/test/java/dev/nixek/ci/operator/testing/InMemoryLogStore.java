package dev.nixek.ci.operator.testing;

import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredChunk;
import dev.nixek.ci.common.logs.StoredLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link LogStore} in memory for the operator's tests (the real stores are tested where they are written): keeps
 * chunks per step, a write time per job from its clock, and can be told to fail deletions.
 */
public final class InMemoryLogStore implements LogStore {
  private final Map<JobLogs, Map<Integer, TreeMap<Long, byte[]>>> jobs = new LinkedHashMap<>();
  private final Map<JobLogs, Instant> written = new LinkedHashMap<>();
  private final Map<JobLogs, Boolean> sealed = new LinkedHashMap<>();
  private Clock clock = Clock.systemUTC();
  /** Deletions that fail from now on (each failing call counts one down). */
  public final AtomicInteger failDeletes = new AtomicInteger();
  /** Every deletion asked for, failed or not. */
  public final List<JobLogs> deletes = new ArrayList<>();

  public synchronized InMemoryLogStore clock(Clock clock) {
    this.clock = clock;
    return this;
  }

  @Override
  public synchronized void put(StepLog log, long seq, long offset, byte[] data) {
    jobs.computeIfAbsent(log.job(), j -> new TreeMap<>()).computeIfAbsent(log.stepIndex(), i -> new TreeMap<>())
        .put(seq, data.clone());
    written.put(log.job(), clock.instant());
  }

  @Override
  public synchronized Optional<StoredChunk> chunk(StepLog log, long seq) {
    TreeMap<Long, byte[]> chunks = chunks(log);
    if (!chunks.containsKey(seq)) {
      return Optional.empty();
    }
    long offset = 0;
    for (Map.Entry<Long, byte[]> e : chunks.headMap(seq).entrySet()) {
      offset += e.getValue().length;
    }
    byte[] data = chunks.get(seq);
    return Optional.of(new StoredChunk(seq, offset, data.length, sha256(data)));
  }

  @Override
  public synchronized StoredLog state(StepLog log) {
    TreeMap<Long, byte[]> chunks = chunks(log);
    long n = 0;
    long bytes = 0;
    while (chunks.containsKey(n)) {
      bytes += chunks.get(n).length;
      n++;
    }
    return new StoredLog(n, bytes, sealed.getOrDefault(log.job(), false));
  }

  @Override
  public synchronized void seal(StepLog log) {
    sealed.put(log.job(), true);
  }

  @Override
  public synchronized long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] b : chunks(log).values()) {
      all.write(b);
    }
    byte[] bytes = all.toByteArray();
    int start = (int) Math.min(from, bytes.length);
    int n = (int) Math.min(maxBytes, bytes.length - start);
    out.write(bytes, start, n);
    return n;
  }

  @Override
  public synchronized void delete(JobLogs job) throws IOException {
    deletes.add(job);
    if (failDeletes.get() > 0) {
      failDeletes.decrementAndGet();
      throw new IOException("store unreachable (test)");
    }
    jobs.remove(job);
    written.remove(job);
    sealed.remove(job);
  }

  @Override
  public synchronized List<StoredJob> jobs() {
    return jobs.keySet().stream().map(j -> new StoredJob(j, written.get(j))).toList();
  }

  /** Whether anything of the job's is stored. */
  public synchronized boolean has(JobLogs job) {
    return jobs.containsKey(job);
  }

  @Override
  public void close() {}

  private TreeMap<Long, byte[]> chunks(StepLog log) {
    return jobs.getOrDefault(log.job(), Map.of()).getOrDefault(log.stepIndex(), new TreeMap<>());
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
