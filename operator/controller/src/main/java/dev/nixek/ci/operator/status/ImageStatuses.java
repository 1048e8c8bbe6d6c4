package dev.nixek.ci.operator.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;

/** Deep copies of image statuses, through their JSON form. */
public final class ImageStatuses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ImageStatuses() {}

  /** A deep copy; an empty status for null. */
  public static NixekMachineImageStatus copy(NixekMachineImageStatus s) {
    return s == null ? new NixekMachineImageStatus() : JSON.convertValue(s, NixekMachineImageStatus.class);
  }
}
