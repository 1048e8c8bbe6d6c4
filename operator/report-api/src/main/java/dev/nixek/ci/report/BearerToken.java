package dev.nixek.ci.report;

import dev.nixek.ci.common.token.JobTokens;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;

/** Reads the job token from {@code Authorization: Bearer <token>} (RFC 6750). Never logs or echoes it. */
final class BearerToken {
  private static final String SCHEME = "bearer ";

  private BearerToken() {}

  /** The presented token, or an {@link ApiError} 401 when there is none of the right shape. */
  static String from(HttpServerRequest request) {
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
    if (!JobTokens.looksLikeToken(token)) {
      throw ApiError.unauthorized("the bearer credential is not a nixek-ci job token");
    }
    return token;
  }
}
