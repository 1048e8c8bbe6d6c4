package dev.nixek.ci.report;

/**
 * A request the report API refuses: an HTTP status, a stable machine-readable word and a message for humans. The
 * failure handler turns it into a {@code ReportError} body. It carries no stack trace: it is an answer, not a bug.
 */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;

  ApiError(int status, String error, String message) {
    super(message, null, false, false);
    this.status = status;
    this.error = error;
  }

  static ApiError unauthorized(String message) {
    return new ApiError(401, "unauthorized", message);
  }

  static ApiError forbidden(String message) {
    return new ApiError(403, "forbidden", message);
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "bad_request", message);
  }

  int status() {
    return status;
  }

  String error() {
    return error;
  }
}
