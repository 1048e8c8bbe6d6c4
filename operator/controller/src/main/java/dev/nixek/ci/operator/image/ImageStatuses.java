package dev.nixek.ci.operator.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;

/** Copies and comparisons of image statuses, through their JSON form (what is written is what is compared). */
final class ImageStatuses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ImageStatuses() {}

  /** A deep copy; an empty status for null. */
  static NixekMachineImageStatus copy(NixekMachineImageStatus s) {
    return s == null ? new NixekMachineImageStatus() : JSON.convertValue(s, NixekMachineImageStatus.class);
  }

  /** Whether writing {@code b} over {@code a} would change nothing. */
  static boolean same(NixekMachineImageStatus a, NixekMachineImageStatus b) {
    return JSON.valueToTree(copy(a)).equals(JSON.valueToTree(copy(b)));
  }
}
