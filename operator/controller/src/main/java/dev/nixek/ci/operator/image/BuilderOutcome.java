package dev.nixek.ci.operator.image;

/**
 * What a builder pod says: still working, done with an uploaded image, or failed with a reason
 * ({@link BuilderResults} reads it from the pod).
 */
public sealed interface BuilderOutcome {
  /** The pod has not finished. */
  record Working(boolean started) implements BuilderOutcome {}

  /**
   * The image is in S3. {@code bootMode} and {@code system} are null when the image did not say, {@code nixVersion}
   * (the Nix that built it) when the builder could not tell.
   */
  record Built(String bucket, String key, long size, String sha256, String drvPath, String format, String bootMode,
      String system, String nixVersion) implements BuilderOutcome {
    public String s3Uri() {
      return "s3://" + bucket + "/" + key;
    }
  }

  /** The build or upload failed (or the pod ended without a usable result). */
  record Failed(String error, String logTail) implements BuilderOutcome {}
}
