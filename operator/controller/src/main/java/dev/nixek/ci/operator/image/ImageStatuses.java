package dev.nixek.ci.operator.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nixek.ci.api.v1alpha1.NixekMachineImageStatus;
import java.util.ArrayList;

/** Copies and comparisons of image statuses. */
final class ImageStatuses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ImageStatuses() {}

  static NixekMachineImageStatus copy(NixekMachineImageStatus s) {
    NixekMachineImageStatus c = new NixekMachineImageStatus();
    if (s == null) {
      return c;
    }
    c.observedGeneration = s.observedGeneration;
    c.conditions = s.conditions == null ? null : new ArrayList<>(s.conditions);
    c.imageHash = s.imageHash;
    c.region = s.region;
    c.drvPath = s.drvPath;
    c.s3Uri = s.s3Uri;
    c.sha256 = s.sha256;
    c.sizeBytes = s.sizeBytes;
    c.diskFormat = s.diskFormat;
    c.bootMode = s.bootMode;
    c.importAttempt = s.importAttempt;
    c.importStartTime = s.importStartTime;
    c.importTaskId = s.importTaskId;
    c.snapshotId = s.snapshotId;
    c.imageId = s.imageId;
    c.amiName = s.amiName;
    c.builderPod = s.builderPod;
    c.readyTime = s.readyTime;
    return c;
  }

  /** Whether writing {@code b} over {@code a} would change nothing. */
  static boolean same(NixekMachineImageStatus a, NixekMachineImageStatus b) {
    return JSON.valueToTree(copy(a)).equals(JSON.valueToTree(copy(b)));
  }
}
