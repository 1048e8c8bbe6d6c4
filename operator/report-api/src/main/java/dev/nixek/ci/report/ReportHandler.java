package dev.nixek.ci.report;

import dev.nixek.ci.protocol.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Duplicate;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.common.status.StepReports;
import dev.nixek.ci.common.token.JobTokens;
import dev.nixek.ci.protocol.OutputChunk;
import dev.nixek.ci.protocol.ReportAck;
import dev.nixek.ci.protocol.ReportError;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.protocol.StepFinished;
import dev.nixek.ci.protocol.StepStarted;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three report endpoints. Checks run in this order, and none has a side effect before the last: bearer token
 * shape (401), token record (401), token's job = path's job (403) — these three before the body is read — step
 * index (404), body (400), then the report itself: {@code started} and {@code finished} by read-modify-write of the
 * job's steps ({@link ReportWriter}; 401 for a dead token, 404/409/422 from {@link StepReports}), an output chunk
 * into the log store ({@link OutputIngest}); 200 applied or duplicate. The token itself is never logged; its id (a
 * prefix of its hash) is.
 */
final class ReportHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ReportHandler.class);
  /** A plain non-negative decimal int: no sign, no leading zeros, no spaces. */
  private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]{0,8}");

  private final ReportWriter writer;
  private final WorkerExecutor sealPool;
  private final OutputIngest ingest;
  private final PerJobQueue queue;

  /**
   * @param sealPool where logs are sealed: threads of their own, because a seal reads and rewrites a whole step's
   *     log (seconds for a big one) and the shared workers acknowledge every job's reports
   */
  ReportHandler(ReportWriter writer, OutputIngest ingest, PerJobQueue queue, WorkerExecutor sealPool) {
    this.sealPool = sealPool;
    this.writer = writer;
    this.ingest = ingest;
    this.queue = queue;
  }

  void started(RoutingContext ctx) {
    handle(ctx, ReportPaths.STARTED, StepStarted.class, writer::started);
  }

  void output(RoutingContext ctx) {
    handle(ctx, ReportPaths.OUTPUT, OutputChunk.class, ingest::output);
  }

  void finished(RoutingContext ctx) {
    handle(ctx, ReportPaths.FINISHED, StepFinished.class, writer::finished).onSuccess(outcome -> {
      if (outcome instanceof Applied || outcome instanceof Duplicate) {
        // after the answer: every byte is durable in chunk objects already, sealing only compacts them (a crash
        // before it leaves a readable, unsealed log, sealed by the agent's replay of this report or the clean-up)
        TokenRecord record = TokenResolver.record(ctx);
        int index = index(ctx.pathParam("index"));
        sealPool.executeBlocking(() -> {
          writer.seal(record, index);
          return null;
        }, false).onFailure(t -> LOG.warn("sealing the log of {} step {} failed: {}", record.jobKey(), index,
            t.toString()));
      }
    });
  }

  /** One report of a step, applied by {@code task} on a worker after the job's earlier reports. */
  @FunctionalInterface
  interface Task<T> {
    ReportOutcome apply(TokenRecord record, int index, T report) throws Exception;
  }

  private <T> Future<ReportOutcome> handle(RoutingContext ctx, String kind, Class<T> type, Task<T> task) {
    Context caller = ctx.vertx().getOrCreateContext();
    // authenticated before the body was read (TokenResolver#handler)
    return Future.succeededFuture(TokenResolver.record(ctx))
        .compose(record -> {
          int index = index(ctx.pathParam("index"));
          T report = parse(ctx.body().buffer(), type);
          return queue.submit(caller, record.jobKey(), () -> task.apply(record, index, report))
              .map(outcome -> {
                log(kind, record, index, outcome);
                return outcome;
              });
        })
        .onSuccess(outcome -> respond(ctx, outcome))
        .onFailure(t -> ReportApi.fail(ctx, t));
  }

  private static int index(String raw) {
    if (raw == null || !INDEX.matcher(raw).matches()) {
      throw new ApiError(404, "unknown_step", "the step index must be a non-negative decimal integer");
    }
    return Integer.parseInt(raw);
  }

  /**
   * The report in the body. Error messages name the field and the expected type but never quote the body: Jackson's
   * own messages do, and whatever a client sent (a misplaced token, output) must not reach a log line.
   */
  static <T> T parse(Buffer body, Class<T> type) {
    if (body == null || body.length() == 0) {
      throw ApiError.badRequest("the request has no body");
    }
    T report;
    try {
      report = Json.mapper().readValue(body.getBytes(), type);
    } catch (UnrecognizedPropertyException e) {
      throw ApiError.badRequest(type.getSimpleName() + " has no field " + quoted(e.getPropertyName())
          + "; known fields: " + e.getKnownPropertyIds());
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? "the body" : "field " + quoted(e.getPath().get(e.getPath().size() - 1)
          .getFieldName());
      throw ApiError.badRequest(field + " has the wrong type or shape for a " + type.getSimpleName());
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr();
      throw ApiError.badRequest("malformed JSON" + where);
    } catch (IOException e) {
      throw ApiError.badRequest("unreadable body");
    }
    if (report == null) {
      throw ApiError.badRequest("the body must be a JSON object, not null");
    }
    return report;
  }

  private static String quoted(String fieldName) {
    if (fieldName == null) {
      return "?";
    }
    String safe = fieldName.length() > 40 ? fieldName.substring(0, 40) + "..." : fieldName;
    // a field name is client input too: keep it short and unmistakably not a token
    return JobTokens.looksLikeAnyToken(fieldName) || JobTokens.mentionsToken(fieldName) ? "'<redacted>'"
        : "'" + safe.replaceAll("[^A-Za-z0-9_.-]", "?") + "'";
  }

  static void respond(RoutingContext ctx, ReportOutcome outcome) {
    if (outcome instanceof Applied) {
      ReportApi.sendJson(ctx, 200, ReportAck.APPLIED);
    } else if (outcome instanceof Duplicate) {
      ReportApi.sendJson(ctx, 200, ReportAck.DUPLICATE);
    } else if (outcome instanceof Rejected r) {
      if (r.httpStatus() == 401) {
        ReportApi.challenge(ctx);
      }
      ReportApi.sendJson(ctx, r.httpStatus(), new ReportError(r.error(), r.message()));
    }
  }

  private static void log(String kind, TokenRecord record, int index, ReportOutcome outcome) {
    if (outcome instanceof Rejected r) {
      LOG.info("{} {} report for {} step {} (token {}): {}", r.httpStatus(), kind, record.jobKey(), index,
          record.tokenId(), r.message());
    } else if (LOG.isDebugEnabled()) {
      LOG.debug("{} report for {} step {} (token {}): {}", kind, record.jobKey(), index, record.tokenId(),
          outcome instanceof Applied ? "applied" : "duplicate");
    }
  }
}
