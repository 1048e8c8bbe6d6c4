package dev.nixek.ci.report;

/**
 * A request the report API refuses: an HTTP status, a stable machine-readable word and a message for humans. The
 * failure handler turns it into a {@code ReportError} body (with Retry-After when it says when to come back). It
 * carries no stack trace: it is an answer, not a bug.
 */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;
  private final long retryAfterSeconds;
  private final transient TokenRecord record;

  ApiError(int status, String error, String message) {
    this(status, error, message, 0, null);
  }

  /** A refusal about a token whose record was found (a 403): the record is for the log, never for the answer. */
  ApiError(int status, String error, String message, TokenRecord record) {
    this(status, error, message, 0, record);
  }

  private ApiError(int status, String error, String message, long retryAfterSeconds, TokenRecord record) {
    super(message, null, false, false);
    this.status = status;
    this.error = error;
    this.retryAfterSeconds = retryAfterSeconds;
    this.record = record;
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

  /** 429: come back after {@code retryAfterSeconds} (at least 1). */
  static ApiError tooMany(String message, long retryAfterSeconds) {
    return new ApiError(429, "too_many_requests", message, Math.max(1, retryAfterSeconds), null);
  }

  int status() {
    return status;
  }

  String error() {
    return error;
  }

  /** Seconds for Retry-After; 0 for none. */
  long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  TokenRecord record() {
    return record;
  }
}
