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
      String system, String nixVersion, CachePush cache) implements BuilderOutcome {
    /** A result without a cache step. */
    public Built(String bucket, String key, long size, String sha256, String drvPath, String format, String bootMode,
        String system, String nixVersion) {
      this(bucket, key, size, sha256, drvPath, format, bootMode, system, nixVersion, null);
    }

    public String s3Uri() {
      return "s3://" + bucket + "/" + key;
    }
  }

  /**
   * What the builder's cache step says it pushed through its staging grant: the bundle's size and store paths
   * (size 0: nothing to push), or why it pushed nothing ({@code error}, size -1). A claim, like the rest.
   */
  record CachePush(long size, int paths, String error) {}

  /** The build or upload failed (or the pod ended without a usable result). */
  record Failed(String error, String logTail) implements BuilderOutcome {}
}
