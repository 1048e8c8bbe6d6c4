package dev.nixek.ci.report;

import dev.nixek.ci.common.status.ReportOutcome;
import dev.nixek.ci.common.status.ReportOutcome.Applied;
import dev.nixek.ci.common.status.ReportOutcome.Rejected;
import dev.nixek.ci.protocol.AgentEnded;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/jobs/:namespace/:name/agent-ended}: the agent stopped the job early (a refused report) and says
 * why. Checks in the order of the step reports (a step token, its record, its job = the path's job before the body is
 * read; the body; 422 for a report that cannot be right), then the read-modify-write of {@code status.agentEnded}
 * ({@link AgentEndedWriter}).
 */
final class AgentEndedHandler {
  private static final Logger LOG = LoggerFactory.getLogger(AgentEndedHandler.class);

  private final AgentEndedWriter writer;
  private final PerJobQueue queue;

  AgentEndedHandler(AgentEndedWriter writer, PerJobQueue queue) {
    this.writer = writer;
    this.queue = queue;
  }

  void agentEnded(RoutingContext ctx) {
    Context caller = ctx.vertx().getOrCreateContext();
    // authenticated before the body was read (TokenResolver#handler)
    Future.succeededFuture(TokenResolver.record(ctx))
        .compose(record -> {
          AgentEnded report = ReportHandler.parse(ctx.body().buffer(), AgentEnded.class);
          Rejected invalid = AgentEndedWriter.check(report);
          Future<ReportOutcome> outcome = invalid != null ? Future.succeededFuture(invalid)
              : queue.submit(caller, record.jobKey(), () -> writer.write(record, report));
          return outcome.map(o -> {
            log(record, report, o);
            return o;
          });
        })
        .onSuccess(outcome -> ReportHandler.respond(ctx, outcome))
        .onFailure(t -> ReportApi.fail(ctx, t));
  }

  private static void log(TokenRecord record, AgentEnded report, ReportOutcome outcome) {
    if (outcome instanceof Rejected r) {
      LOG.info("{} agent-ended report for {} (token {}): {}", r.httpStatus(), record.jobKey(), record.tokenId(),
          r.message());
    } else {
      // the exit code only: the reason is the agent's text, and it is in the job's status
      LOG.info("agent of {} (token {}) stopped the job early with exit code {}: {}", record.jobKey(),
          record.tokenId(), report.exitCode(), outcome instanceof Applied ? "recorded" : "duplicate");
    }
  }
}
