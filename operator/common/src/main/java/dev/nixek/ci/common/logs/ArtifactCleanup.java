package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link LogStore} whose {@link #delete} and {@link #jobs} also cover the job's artifacts, so the operator's job
 * finalizer ({@code JobLogCleanup}) and its collector (jobs that are gone, NIXEK_LOG_RETENTION_DAYS) delete
 * artifacts exactly when and as they delete logs, with no code of their own. Everything else is the log store's.
 */
public final class ArtifactCleanup implements LogStore {
  private final LogStore logs;
  private final ArtifactStore artifacts;

  public ArtifactCleanup(LogStore logs, ArtifactStore artifacts) {
    this.logs = logs;
    this.artifacts = artifacts;
  }

  @Override
  public void delete(JobLogs job) throws IOException {
    artifacts.delete(job);
    logs.delete(job);
  }

  /** The union of both stores' jobs, each with its newest write in either. */
  @Override
  public List<StoredJob> jobs() throws IOException {
    Map<JobLogs, StoredJob> all = new HashMap<>();
    for (StoredJob j : logs.jobs()) {
      all.put(j.job(), j);
    }
    for (StoredJob j : artifacts.jobs()) {
      all.merge(j.job(), j, (a, b) -> a.lastWritten().isAfter(b.lastWritten()) ? a : b);
    }
    return new ArrayList<>(all.values());
  }

  @Override
  public void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
    logs.put(log, seq, offset, data);
  }

  @Override
  public Optional<StoredChunk> chunk(StepLog log, long seq) throws IOException {
    return logs.chunk(log, seq);
  }

  @Override
  public StoredLog state(StepLog log) throws IOException {
    return logs.state(log);
  }

  @Override
  public void seal(StepLog log) throws IOException {
    logs.seal(log);
  }

  @Override
  public long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
    return logs.read(log, from, maxBytes, out);
  }

  @Override
  public void close() {
    try {
      artifacts.close();
    } finally {
      logs.close();
    }
  }
}
