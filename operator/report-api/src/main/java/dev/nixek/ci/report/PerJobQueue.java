package dev.nixek.ci.report;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Runs blocking tasks on worker threads, one at a time per key (a job) in the order they were submitted, while tasks
 * of different keys run in parallel. Reports of one job so never race each other into 409 retries, and a report is
 * applied only after the one submitted before it.
 *
 * <p>Each key's latest task is kept in a map; a new task starts when its predecessor has finished (succeeded or
 * failed). The entry is removed when the last task of a key ends, so idle jobs cost nothing.
 */
final class PerJobQueue {
  private final Map<String, Future<Void>> tails = new HashMap<>();
  private final Map<String, Integer> depths = new HashMap<>();
  private final int limit;

  /** A queue of at most {@code limit} tasks per key, queued and running; more are refused with 429. */
  PerJobQueue(int limit) {
    this.limit = limit;
  }

  PerJobQueue() {
    this(Integer.MAX_VALUE);
  }

  /**
   * Runs {@code task} on {@code caller}'s worker pool after the tasks of {@code key} submitted before it; a failed
   * future with a 429 {@link ApiError} when {@code key} already has {@code limit} tasks (one job cannot take every
   * worker, and a client that sends faster than its reports are written is told to slow down).
   */
  <T> Future<T> submit(Context caller, String key, Callable<T> task) {
    Promise<Void> turn = Promise.promise();
    Future<Void> mine = turn.future();
    Future<Void> previous;
    synchronized (tails) {
      int depth = depths.getOrDefault(key, 0);
      if (depth >= limit) {
        return Future.failedFuture(ApiError.tooMany("this job has " + depth + " reports waiting; retry later", 1));
      }
      depths.put(key, depth + 1);
      previous = tails.put(key, mine);
    }
    Future<Void> ready = previous == null ? Future.succeededFuture() : previous;
    // executeBlocking on the caller's context: the result is delivered on the request's event loop
    Future<T> result = ready.compose(v -> caller.executeBlocking(task, false));
    result.onComplete(ar -> {
      synchronized (tails) {
        tails.remove(key, mine);
        depths.computeIfPresent(key, (k, d) -> d <= 1 ? null : d - 1);
      }
      turn.complete();
    });
    return result;
  }

  /** How many keys have a task queued or running (for tests and diagnostics). */
  int activeKeys() {
    synchronized (tails) {
      return tails.size();
    }
  }
}
