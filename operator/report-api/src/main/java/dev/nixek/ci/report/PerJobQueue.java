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

  /** Runs {@code task} on {@code caller}'s worker pool after the tasks of {@code key} submitted before it. */
  <T> Future<T> submit(Context caller, String key, Callable<T> task) {
    Promise<Void> turn = Promise.promise();
    Future<Void> mine = turn.future();
    Future<Void> previous;
    synchronized (tails) {
      previous = tails.put(key, mine);
    }
    Future<Void> ready = previous == null ? Future.succeededFuture() : previous;
    // executeBlocking on the caller's context: the result is delivered on the request's event loop
    Future<T> result = ready.compose(v -> caller.executeBlocking(task, false));
    result.onComplete(ar -> {
      synchronized (tails) {
        tails.remove(key, mine);
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
