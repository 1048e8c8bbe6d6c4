package dev.nixek.ci.builder;

/** A failure with the exit code it maps to; its message becomes the termination message's one-line error. */
public final class BuilderException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  private BuilderException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public static BuilderException usage(String message) {
    return new BuilderException(ExitCode.USAGE, message, null);
  }

  public static BuilderException build(String message) {
    return new BuilderException(ExitCode.BUILD_FAILED, message, null);
  }

  public static BuilderException build(String message, Throwable cause) {
    return new BuilderException(ExitCode.BUILD_FAILED, message, cause);
  }

  public static BuilderException upload(String message, Throwable cause) {
    return new BuilderException(ExitCode.UPLOAD_FAILED, message, cause);
  }

  public int exitCode() {
    return exitCode;
  }
}
