package dev.nixek.ci.common.logs;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where every byte of every step's output is kept, outside etcd (docs/logs.md): S3 in production, a local directory
 * on the embedded default. Object storage has no append, so a step's log is a sequence of chunk objects, one per
 * acknowledged output chunk, compacted into one object when the step ends ({@link #seal}). Nothing is held in memory
 * between calls: a report API restart, or several report API replicas writing one step's chunks in turn, see the
 * same log.
 *
 * <p>Implementations are thread-safe. Every method may block (disk, network); call them off the event loop.
 */
public interface LogStore extends AutoCloseable {

  /**
   * Stores chunk {@code seq} of the step: bytes {@code [offset, offset + data.length)}. Returns only once the chunk
   * is durable (an S3 PUT answered, or a file written, forced to disk and renamed into place), so a chunk is
   * acknowledged to the agent only after this returned. Storing the same chunk again with the same bytes is harmless
   * (a replay after a lost answer); the caller checks order and replays ({@link #chunk}, {@link #state}) first.
   * A chunk stored after {@link #seal} is never read (the next seal or delete removes it): check {@link #state}.
   *
   * @throws IllegalArgumentException when a name is not a valid Kubernetes name/uid (so it could not escape the
   *     store's directory or prefix), or seq, offset or data are invalid
   */
  void put(StepLog log, long seq, long offset, byte[] data) throws IOException;

  /** Chunk {@code seq} as stored (also after sealing), or empty when the step has no such chunk. */
  Optional<StoredChunk> chunk(StepLog log, long seq) throws IOException;

  /**
   * The step's stored state: how many chunks without a gap from 0, how many bytes, whether sealed. Costs a directory
   * listing (local) or one LIST per 1,000 chunks (S3): per chunk, {@link #chunk} of the previous seq (one HEAD) is
   * the cheaper way to find where the next chunk must start.
   */
  StoredLog state(StepLog log) throws IOException;

  /**
   * Compacts the step's chunks into one object and removes the chunk objects, once the compacted object is durable;
   * idempotent. A reader sees the same bytes before, during and after sealing. No chunk is accepted after it.
   */
  void seal(StepLog log) throws IOException;

  /**
   * Copies up to {@code maxBytes} of the step's log, starting at byte {@code from}, to {@code out}; returns how many
   * bytes were copied (0 at or past the end of what is stored now).
   */
  long read(StepLog log, long from, long maxBytes, OutputStream out) throws IOException;

  /** Deletes every stored log of the job; deleting what is not there is fine. */
  void delete(JobLogs job) throws IOException;

  /** Every job with stored logs, with the time its newest object was written (for retention and orphan clean-up). */
  List<StoredJob> jobs() throws IOException;

  /** A job found in the store. */
  record StoredJob(JobLogs job, Instant lastWritten) {}

  @Override
  void close();
}
