package dev.nixek.ci.operator.testing;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.operator.job.CrashPoints;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Kills "the operator process" at one crash point: the reconcile thread that reaches it dies with an {@link Error}
 * (JOSDK does not catch Errors, so that job is never reconciled again by this operator, as after a real crash), and
 * every later point reached by this operator dies too. The test then stops this operator and starts a new one.
 */
public final class CrashAt implements CrashPoints {
  /** The simulated death of the operator. */
  public static final class SimulatedCrash extends Error {
    private static final long serialVersionUID = 1L;

    SimulatedCrash(String message) {
      super(message, null, false, false);
    }
  }

  private final Point point;
  private final String jobName;
  private final int occurrence;
  private final java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
  private final CountDownLatch crashed = new CountDownLatch(1);

  /** Crashes when job {@code jobName} (any job: null) reaches {@code point}. */
  public CrashAt(Point point, String jobName) {
    this(point, jobName, 1);
  }

  /** Crashes when job {@code jobName} reaches {@code point} for the {@code occurrence}-th time. */
  public CrashAt(Point point, String jobName, int occurrence) {
    this.point = point;
    this.jobName = jobName;
    this.occurrence = occurrence;
  }

  @Override
  public void reached(Point p, NixekJob job) {
    if (crashed.getCount() == 0) {
      throw new SimulatedCrash("the operator is dead");
    }
    if (p == point && (jobName == null || jobName.equals(job.getMetadata().getName()))
        && seen.incrementAndGet() == occurrence) {
      crashed.countDown();
      throw new SimulatedCrash("simulated operator crash at " + p);
    }
  }

  /** Waits for the crash; false when it did not happen in time. */
  public boolean awaitCrash(long seconds) throws InterruptedException {
    return crashed.await(seconds, TimeUnit.SECONDS);
  }

  public boolean crashed() {
    return crashed.getCount() == 0;
  }
}
