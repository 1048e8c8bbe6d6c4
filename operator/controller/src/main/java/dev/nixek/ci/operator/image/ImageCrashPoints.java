package dev.nixek.ci.operator.image;

import dev.nixek.ci.api.v1alpha1.NixekMachineImage;

/**
 * The points of an image's reconcile where a crash of the operator matters: AWS has done something the status does
 * not record yet. Production passes {@link #NONE}; crash tests pass one that kills the operator there, then restart
 * it and count what AWS made.
 */
@FunctionalInterface
public interface ImageCrashPoints {
  enum Point {
    /** ImportSnapshot answered; the task id is not in status yet. */
    IMPORT_STARTED,
    /** RegisterImage answered; the AMI id is not in status yet. */
    IMAGE_REGISTERED
  }

  ImageCrashPoints NONE = (point, image) -> { };

  void reached(Point point, NixekMachineImage image);
}
