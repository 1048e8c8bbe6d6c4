package dev.nixek.ci.operator.job;

import dev.nixek.ci.api.v1alpha1.NixekJob;

/**
 * Named points in a launch where a crash of the operator matters (docs/ec2.md). Production passes {@link #NONE};
 * crash tests pass an implementation that kills the operator at one of them and then restart it.
 */
@FunctionalInterface
public interface CrashPoints {
  /** The points, in the order a launch passes them. */
  enum Point {
    /** (a) The launch token is decided but not yet written to status. */
    BEFORE_TOKEN_PERSISTED,
    /** (b) The launch token is in status; RunInstances not called yet. */
    TOKEN_PERSISTED,
    /** (c) RunInstances answered; the instance id is not yet in status. */
    LAUNCHED,
    /** (d) The instance id is in status. */
    INSTANCE_RECORDED
  }

  /** Does nothing. */
  CrashPoints NONE = (point, job) -> { };

  /** Called when a reconcile of {@code job} reaches {@code point}. */
  void reached(Point point, NixekJob job);
}
