package dev.nixek.ci.operator.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;

/** Copies and comparisons of image statuses, through their JSON form (what is written is what is compared). */
public final class ImageStatuses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ImageStatuses() {}

  /** A deep copy; an empty status for null. */
  public static NixekMachineImageStatus copy(NixekMachineImageStatus s) {
    return s == null ? new NixekMachineImageStatus() : JSON.convertValue(s, NixekMachineImageStatus.class);
  }

  /** Whether writing {@code b} over {@code a} would change nothing. */
  public static boolean same(NixekMachineImageStatus a, NixekMachineImageStatus b) {
    return JSON.valueToTree(copy(a)).equals(JSON.valueToTree(copy(b)));
  }
}
