package dev.nixek.ci.report;

import dev.nixek.ci.common.token.JobTokens;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates a request from its Authorization header and path alone, before any byte of its body is read
 * (docs/architecture.md#token-protocol, docs/security.md#the-report-api). The token, not the path, names the job: the
 * token's SHA-256 is looked up among the records the operator wrote to the jobs' status ({@link TokenRecords}, a
 * watched cache: no API call per request, so unknown tokens cost nothing), then the path must name that job.
 *
 * <p>A refused request (401/403) is answered at once with {@code Connection: close}, so its body is never read, and
 * counts against its client's {@link AuthFailures} budget; with the budget spent the answer is 429 with
 * Retry-After. Misses are logged at DEBUG only: a flood of them must not become a flood of log lines.
 */
final class TokenResolver {
  private static final Logger LOG = LoggerFactory.getLogger(TokenResolver.class);
  private static final String RECORD = "nixek.tokenRecord";

  private final TokenRecords records;
  private final AuthFailures failures;

  TokenResolver(TokenRecords records, AuthFailures failures) {
    this.records = records;
    this.failures = failures;
  }

  /** The route handler that authenticates a token of {@code purpose}; the next handler reads the body. */
  Handler<RoutingContext> handler(JobTokens.Purpose purpose) {
    return ctx -> {
      TokenRecord record;
      try {
        record = authenticate(ctx, purpose);
      } catch (ApiError e) {
        refuse(ctx, e);
        return;
      }
      ctx.put(RECORD, record);
      ctx.next();
    };
  }

  /** The record an earlier {@link #handler} put on the request. */
  static TokenRecord record(RoutingContext ctx) {
    TokenRecord r = ctx.get(RECORD);
    if (r == null) {
      throw new IllegalStateException("no token handler ran before " + ctx.normalizedPath());
    }
    return r;
  }

  /**
   * The record of the bearer token of {@code purpose} the request presents for the job in its path: 401 without such
   * a token, 401 when no record has its hash, 403 when the token is another job's, 503 before the records are loaded
   * (or, for a miss, while the watch reconnects).
   */
  TokenRecord authenticate(RoutingContext ctx, JobTokens.Purpose purpose) {
    String token = BearerToken.from(ctx.request(), purpose);
    if (!records.synced()) {
      throw new ApiError(503, "starting", "the report API is loading its token records; retry later");
    }
    String sha = JobTokens.sha256Hex(token);
    List<TokenRecord> found = records.find(purpose, sha);
    if (found.isEmpty()) {
      if (!records.watching()) {
        // the record may have been written while the watch was down: a retry (the agent's, on 503) will know
        throw new ApiError(503, "starting", "the report API is catching up with its token records; retry later");
      }
      throw ApiError.unauthorized("unknown or revoked token");
    }
    if (found.size() > 1) {
      // two jobs with one token hash: only a forged record can do that; believe neither
      LOG.warn("token {} is recorded by {} jobs ({} and {}); refusing it", JobTokens.tokenId(sha), found.size(),
          found.get(0).jobKey(), found.get(1).jobKey());
      throw ApiError.unauthorized("unknown or revoked token");
    }
    TokenRecord record = found.get(0);
    if (!record.namespace().equals(ctx.pathParam("namespace")) || !record.jobName().equals(ctx.pathParam("name"))) {
      throw new ApiError(403, "forbidden", "this token belongs to another job", record);
    }
    return record;
  }

  private void refuse(RoutingContext ctx, ApiError e) {
    ApiError answer = e;
    if (e.status() == 401 || e.status() == 403) {
      String client = client(ctx);
      long retryAfter = failures.fail(client);
      if (retryAfter > 0) {
        answer = ApiError.tooMany("too many failed authentications from this client; retry later", retryAfter);
        LOG.debug("429 {} {}: failed authentications over the limit", client, ctx.request().method());
      } else if (e.status() == 403 && e.record() != null) {
        LOG.info("403 {} {}: token {} belongs to job {}", ctx.request().method(), ReportPathsLog.kind(ctx),
            e.record().tokenId(), e.record().jobKey());
      } else {
        LOG.debug("{} {} from {}: {}", e.status(), ReportPathsLog.kind(ctx), client, e.getMessage());
      }
    }
    // the body stays unread: this connection ends with the answer. The header alone does not close it (Vert.x
    // would keep it until the read-idle timeout, holding a connection slot per refused request)
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.addEndHandler(v -> ctx.request().connection().close());
    ReportApi.fail(ctx, answer);
  }

  private static String client(RoutingContext ctx) {
    SocketAddress remote = ctx.request().remoteAddress();
    String host = remote == null ? null : remote.hostAddress();
    return host == null ? "unknown" : host;
  }
}
