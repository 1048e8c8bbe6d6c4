package dev.nixek.ci.report;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.common.logs.StepLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The {@link StepCursor}s of this replica, by step log. Only a cache: a missing cursor is rebuilt from the job and the
 * store, so cursors of idle or ended steps are dropped ({@link #evictIdle}) and memory follows the running steps.
 */
final class StepCursors {
  private final Map<StepLog, StepCursor> cursors = new ConcurrentHashMap<>();
  private final LongSupplier clockMillis;

  StepCursors(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  /**
   * The cursor of {@code log} for reports under the token with hash {@code tokenSha256}; null when there is none, or
   * when the one there belongs to another token (an earlier launch attempt of a retried job, whose logs were deleted):
   * that one is dropped, and the caller rebuilds the cursor from the job and the store.
   */
  StepCursor get(StepLog log, String tokenSha256) {
    StepCursor c = cursors.get(log);
    if (c != null && !c.tokenSha256.equals(tokenSha256)) {
      cursors.remove(log, c);
      return null;
    }
    if (c != null) {
      c.lastUsedMillis = clockMillis.getAsLong();
    }
    return c;
  }

  void put(StepCursor cursor) {
    cursor.lastUsedMillis = clockMillis.getAsLong();
    cursors.put(cursor.log, cursor);
  }

  void remove(StepLog log) {
    cursors.remove(log);
  }

  /** The cursors with acknowledged output the status does not show yet. */
  List<StepCursor> dirty() {
    List<StepCursor> out = new ArrayList<>();
    for (StepCursor c : cursors.values()) {
      synchronized (c) {
        if (c.dirty && !c.finished) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /** Drops cursors unused for {@code idleMillis} whose output the status already shows. */
  void evictIdle(long idleMillis) {
    long now = clockMillis.getAsLong();
    cursors.values().removeIf(c -> {
      synchronized (c) {
        return !c.dirty && now - c.lastUsedMillis > idleMillis;
      }
    });
  }

  int size() {
    return cursors.size();
  }

  /**
   * Bytes the log store holds for the steps before {@code index}, from their status (written exactly when each step
   * ended): their output, or where it was cut plus the marker line.
   */
  static long storedBefore(List<NixekStepStatus> steps, int index) {
    long sum = 0;
    if (steps == null) {
      return 0;
    }
    for (int i = 0; i < Math.min(index, steps.size()); i++) {
      NixekStepStatus s = steps.get(i);
      if (s.outputCutAtBytes != null) {
        sum += s.outputCutAtBytes + LogLimits.marker(s.outputCutAtBytes, LogLimits.STEP_OPTION).length;
      } else if (s.outputBytes != null) {
        sum += s.outputBytes;
      }
    }
    return sum;
  }
}
