package dev.nixek.ci.report;

import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.EvaluationResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/jobs/:namespace/:name/evaluation}: an evaluation pod's result. Checks in this order, none with a
 * side effect before the last: an evaluation token (a step token is refused, 401), its record (401), its job = the
 * path's job (403), the body (413 over the evaluation limit, before buffering; 415; 400 malformed; 422 steps or
 * machine that could not run), then the read-modify-write of {@code status.evaluation} (200 applied or duplicate,
 * 409 a different result, 401 once the job is gone or finished).
 */
final class EvaluationHandler {
  private static final Logger LOG = LoggerFactory.getLogger(EvaluationHandler.class);

  private final EvaluationWriter writer;
  private final PerJobQueue queue;

  EvaluationHandler(EvaluationWriter writer, PerJobQueue queue) {
    this.writer = writer;
    this.queue = queue;
  }

  void evaluation(RoutingContext ctx) {
    Context caller = ctx.vertx().getOrCreateContext();
    // authenticated before the body was read (TokenResolver#handler)
    Future.succeededFuture(TokenResolver.record(ctx))
        .compose(record -> {
          EvaluationRules.Checked checked = EvaluationRules.check(
              ReportHandler.parse(ctx.body().buffer(), EvaluationResult.class));
          Future<ReportOutcome> outcome = checked.rejected() != null ? Future.succeededFuture(checked.rejected())
              : queue.submit(caller, record.jobKey(), () -> writer.write(record, checked.evaluation()));
          return outcome.map(o -> {
            log(record, o);
            return o;
          });
        })
        .onSuccess(outcome -> ReportHandler.respond(ctx, outcome))
        .onFailure(t -> ReportApi.fail(ctx, t));
  }

  private static void log(TokenRecord record, ReportOutcome outcome) {
    if (outcome instanceof Rejected r) {
      LOG.info("{} evaluation for {} (token {}): {}", r.httpStatus(), record.jobKey(), record.tokenId(), r.message());
    } else {
      LOG.info("evaluation for {} (token {}): {}", record.jobKey(), record.tokenId(),
          outcome instanceof Applied ? "recorded" : "duplicate");
    }
  }
}
