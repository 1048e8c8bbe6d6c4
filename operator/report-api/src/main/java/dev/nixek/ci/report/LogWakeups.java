package dev.nixek.ci.report;

import dev.nixek.ci.common.logs.JobLogs;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.common.logs.StoredChunk;
import dev.nixek.ci.common.logs.StoredLog;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Wakes the followers of a step's log when this process stored a new chunk of it, so that a follower on the replica
 * that took the chunk sees it at once; a follower whose chunks go to another replica still sees them at its next poll
 * of the store. Costs nothing when nobody follows the step.
 */
public final class LogWakeups {
  private final ConcurrentHashMap<StepLog, Object> monitors = new ConcurrentHashMap<>();

  /** Called after a chunk of {@code log} was stored (or the log sealed). */
  public void changed(StepLog log) {
    Object m = monitors.get(log);
    if (m != null) {
      synchronized (m) {
        m.notifyAll();
      }
    }
  }

  /** Waits until {@link #changed} for {@code log} or {@code millis} passed, whichever comes first. */
  void await(StepLog log, long millis) throws InterruptedException {
    Object m = monitors.computeIfAbsent(log, k -> new Object());
    synchronized (m) {
      TimeUnit.MILLISECONDS.timedWait(m, millis);
    }
  }

  /**
   * {@code store}, waking a step's followers after each chunk of it is stored and after it is sealed; null stays
   * null (no store). Ingest writes through it, so nothing else has to remember to call {@link #changed}.
   */
  LogStore waking(LogStore store) {
    if (store == null) {
      return null;
    }
    return new LogStore() {
      @Override
      public void put(StepLog log, long seq, long offset, byte[] data) throws IOException {
        store.put(log, seq, offset, data);
        changed(log);
      }

      @Override
      public Optional<StoredChunk> chunk(StepLog log, long seq) throws IOException {
        return store.chunk(log, seq);
      }

      @Override
      public StoredLog state(StepLog log) throws IOException {
        return store.state(log);
      }

      @Override
      public void seal(StepLog log) throws IOException {
        store.seal(log);
        changed(log);
      }

      @Override
      public long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException {
        return store.read(log, from, maxBytes, out);
      }

      @Override
      public void delete(JobLogs job) throws IOException {
        store.delete(job);
      }

      @Override
      public List<StoredJob> jobs() throws IOException {
        return store.jobs();
      }

      @Override
      public void close() {
        // the caller owns the store
      }
    };
  }

  /** Forgets a log's monitor once its last follower is gone (a follower that is still waiting re-creates it). */
  void release(StepLog log) {
    monitors.remove(log);
  }
}
