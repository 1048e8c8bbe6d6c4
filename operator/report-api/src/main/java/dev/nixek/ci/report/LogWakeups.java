package dev.nixek.ci.report;

import dev.nixek.ci.common.logs.StepLog;
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

  /** Forgets a log's monitor once its last follower is gone (a follower that is still waiting re-creates it). */
  void release(StepLog log) {
    monitors.remove(log);
  }
}
