package dev.nixek.ci.report;

import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredChunk;
import dev.nixek.ci.common.logs.StoredLog;
import dev.nixek.ci.common.token.JobTokens;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A LogStore in memory, for the read side's tests (the real stores are tested with the ingest side). */
final class MemoryLogStore implements LogStore {
  private final Map<StepLog, Step> steps = new HashMap<>();

  private static final class Step {
    final List<StoredChunk> chunks = new ArrayList<>();
    final List<byte[]> data = new ArrayList<>();
    long size;
    boolean sealed;
  }

  /** Appends {@code data} as the step's next chunk. */
  synchronized void append(StepLog log, byte[] data) throws IOException {
    Step s = steps.computeIfAbsent(log, k -> new Step());
    put(log, s.chunks.size(), s.size, data);
  }

  @Override
  public synchronized void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
    Step s = steps.computeIfAbsent(log, k -> new Step());
    if (s.sealed || seq != s.chunks.size() || offset != s.size) {
      throw new IOException("out of order: chunk " + seq + " at " + offset + ", have " + s.chunks.size() + " at "
          + s.size);
    }
    s.chunks.add(new StoredChunk(seq, offset, data.length, JobTokens.sha256Hex(new String(data,
        java.nio.charset.StandardCharsets.ISO_8859_1))));
    s.data.add(data.clone());
    s.size += data.length;
  }

  @Override
  public synchronized Optional<StoredChunk> chunk(StepLog log, long seq) {
    Step s = steps.get(log);
    return s == null || seq >= s.chunks.size() ? Optional.empty() : Optional.of(s.chunks.get((int) seq));
  }

  @Override
  public synchronized StoredLog state(StepLog log) {
    Step s = steps.get(log);
    return s == null ? StoredLog.EMPTY : new StoredLog(s.chunks.size(), s.size, s.sealed);
  }

  @Override
  public synchronized void seal(StepLog log) {
    steps.computeIfAbsent(log, k -> new Step()).sealed = true;
  }

  @Override
  public synchronized long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    Step s = steps.get(log);
    if (s == null || from >= s.size) {
      return 0;
    }
    long copied = 0;
    for (int i = 0; i < s.data.size() && copied < maxBytes; i++) {
      StoredChunk c = s.chunks.get(i);
      if (c.end() <= from + copied) {
        continue;
      }
      int start = (int) (from + copied - c.offset());
      int n = (int) Math.min(c.length() - start, maxBytes - copied);
      out.write(s.data.get(i), start, n);
      copied += n;
    }
    return copied;
  }

  @Override
  public synchronized void delete(JobLogs job) {
    steps.keySet().removeIf(k -> k.job().equals(job));
  }

  @Override
  public synchronized List<StoredJob> jobs() {
    return steps.keySet().stream().map(StepLog::job).distinct().map(j -> new StoredJob(j, Instant.now())).toList();
  }

  @Override
  public void close() {}
}
