package dev.nixek.ci.builder;

/**
 * Process exit codes of {@code nixek-builder}. The operator reads the termination message for details; the
 * code alone tells it whether retrying can help (an upload failure may be transient, a build failure is not).
 */
public final class ExitCode {
  public static final int OK = 0;
  /** A bug or an unexpected condition in the builder itself. */
  public static final int INTERNAL = 1;
  /** The build command failed, or its output holds no usable disk image / drvPath. */
  public static final int BUILD_FAILED = 2;
  /** Reading the image or talking to S3 failed. */
  public static final int UPLOAD_FAILED = 3;
  /** Bad command line (sysexits.h EX_USAGE). */
  public static final int USAGE = 64;

  private ExitCode() {}
}
