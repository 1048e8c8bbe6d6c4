package dev.nixek.ci.report;

import dev.nixek.ci.common.token.JobTokens;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;

/**
 * Reads a token of one purpose from {@code Authorization: Bearer <token>} (RFC 6750). Never logs or echoes it. A token
 * of another purpose (a step token at the evaluation endpoint, or the reverse) is refused here, before any lookup.
 */
final class BearerToken {
  private static final String SCHEME = "bearer ";

  private BearerToken() {}

  /** The presented step token, or an {@link ApiError} 401 when there is none of the right shape. */
  static String from(HttpServerRequest request) {
    return from(request, JobTokens.Purpose.STEPS);
  }

  /** The presented token of {@code purpose}, or an {@link ApiError} 401 when there is none of the right shape. */
  static String from(HttpServerRequest request, JobTokens.Purpose purpose) {
    List<String> values = request.headers().getAll(HttpHeaders.AUTHORIZATION);
    if (values.isEmpty()) {
      throw ApiError.unauthorized("missing Authorization: Bearer <job token>");
    }
    if (values.size() > 1) {
      throw ApiError.unauthorized("more than one Authorization header");
    }
    String value = values.get(0).trim();
    if (value.length() < SCHEME.length() || !value.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      throw ApiError.unauthorized("the Authorization scheme must be Bearer");
    }
    String token = value.substring(SCHEME.length()).trim();
    if (!JobTokens.looksLikeToken(token, purpose)) {
      throw ApiError.unauthorized(JobTokens.looksLikeAnyToken(token)
          ? "this endpoint takes a nixek-ci " + purpose.label() + " token, not a token of another purpose"
          : "the bearer credential is not a nixek-ci " + purpose.label() + " token");
    }
    return token;
  }
}
