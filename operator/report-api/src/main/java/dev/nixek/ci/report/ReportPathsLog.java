package dev.nixek.ci.report;

import io.vertx.ext.web.RoutingContext;

/**
 * What a request was, for a log line, without quoting its path: path parameters are client input (a {@code %0A}
 * there would forge a log line), so only the endpoint's fixed last segment is named.
 */
final class ReportPathsLog {
  private ReportPathsLog() {}

  static String kind(RoutingContext ctx) {
    String path = ctx.currentRoute() == null ? null : ctx.currentRoute().getPath();
    if (path == null) {
      return "request";
    }
    int slash = path.lastIndexOf('/');
    return path.substring(slash + 1) + " report";
  }
}
