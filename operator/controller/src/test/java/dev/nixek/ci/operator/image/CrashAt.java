package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Kills "the operator" at one crash point: the reconcile thread that reaches it dies with an {@link Error} (JOSDK
 * does not catch Errors, so that image is never reconciled again by this operator, as after a real crash), and every
 * later point reached dies too. The test then stops this operator and starts a new one.
 */
final class CrashAt implements ImageCrashPoints {
  /** The simulated death of the operator. */
  static final class SimulatedCrash extends Error {
    private static final long serialVersionUID = 1L;

    SimulatedCrash(String message) {
      super(message, null, false, false);
    }
  }

  private final Point point;
  private final CountDownLatch crashed = new CountDownLatch(1);

  CrashAt(Point point) {
    this.point = point;
  }

  @Override
  public void reached(Point p, NixekMachineImage image) {
    if (crashed.getCount() == 0) {
      throw new SimulatedCrash("the operator is dead");
    }
    if (p == point) {
      crashed.countDown();
      throw new SimulatedCrash("simulated operator crash at " + p);
    }
  }

  boolean awaitCrash(long seconds) throws InterruptedException {
    return crashed.await(seconds, TimeUnit.SECONDS);
  }
}
