package dev.nixek.ci.report;

import dev.nixek.ci.common.job.StepRules;
import dev.nixek.ci.protocol.LogPaths;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a request to the logs endpoint asks for ({@link LogsHandler}), checked: a malformed namespace, name, index,
 * offset, limit or follow is 400 before any Kubernetes call. {@code limit} -1: no limit.
 */
record LogRequest(String namespace, String name, int index, long offset, long limit, boolean follow) {
  private static final Pattern DNS_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final String SCHEME = "bearer ";

  static LogRequest parse(RoutingContext ctx) {
    String namespace = ctx.pathParam("namespace");
    String name = ctx.pathParam("name");
    if (namespace == null || namespace.length() > 63 || !DNS_NAME.matcher(namespace).matches()) {
      throw ApiError.badRequest("the namespace in the path is not a Kubernetes namespace name");
    }
    if (name == null || name.length() > 253 || !DNS_NAME.matcher(name).matches()) {
      throw ApiError.badRequest("the job name in the path is not a Kubernetes object name");
    }
    int index = (int) number(ctx.pathParam("index"), "step index", StepRules.MAX_STEPS, 0); // + a checkout step
    long offset = number(ctx.queryParams().get(LogPaths.OFFSET), LogPaths.OFFSET, Long.MAX_VALUE, 0);
    long limit = number(ctx.queryParams().get(LogPaths.LIMIT), LogPaths.LIMIT, Long.MAX_VALUE, -1);
    String follow = ctx.queryParams().get(LogPaths.FOLLOW);
    boolean f;
    if (follow == null || follow.equals("false") || follow.equals("0")) {
      f = false;
    } else if (follow.equals("true") || follow.equals("1") || follow.isEmpty()) {
      f = true;
    } else {
      throw ApiError.badRequest("follow must be true or false");
    }
    return new LogRequest(namespace, name, index, offset, limit, f);
  }

  private static long number(String value, String what, long max, long absent) {
    if (value == null) {
      return absent;
    }
    try {
      long n = Long.parseLong(value);
      if (n < 0 || n > max) {
        throw ApiError.badRequest(what + " must be 0.." + max + ", was " + value);
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiError.badRequest(what + " must be a whole number, was \"" + (value.length() > 32
          ? value.substring(0, 32) + "..." : value) + "\"");
    }
  }

  /** The caller's bearer token, never logged; client certificates cannot be checked by a TokenReview. */
  static String bearer(RoutingContext ctx) {
    List<String> values = ctx.request().headers().getAll(HttpHeaders.AUTHORIZATION);
    if (values.isEmpty()) {
      throw ApiError.unauthorized("missing Authorization: Bearer <Kubernetes token>; logs are read with a "
          + "Kubernetes bearer token (a client certificate cannot be checked here)");
    }
    if (values.size() > 1) {
      throw ApiError.unauthorized("more than one Authorization header");
    }
    String value = values.get(0).trim();
    if (value.length() <= SCHEME.length()
        || !value.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      throw ApiError.unauthorized("the Authorization scheme must be Bearer");
    }
    String token = value.substring(SCHEME.length()).trim();
    if (token.isEmpty() || token.length() > 16 * 1024 || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw ApiError.unauthorized("the bearer token is empty or malformed");
    }
    return token;
  }
}
