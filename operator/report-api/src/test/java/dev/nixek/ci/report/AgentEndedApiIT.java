package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekAgentEnded;
import dev.nixek.ci.protocol.AgentEnded;
import dev.nixek.ci.protocol.ReportPaths;
import dev.nixek.ci.report.Harness.Job;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST .../agent-ended}: the agent's account of why it stopped a job early lands once in
 * {@code status.agentEnded}, one line and bounded, and every refusal changes nothing.
 */
class AgentEndedApiIT {
  private static final String TIME = "2026-12-07T10:00:00Z";
  private static final AtomicInteger NAMES = new AtomicInteger();
  private static Harness h;

  @BeforeAll
  static void start() throws Exception {
    h = new Harness(Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  private static Job job() {
    return h.createJob(NS, "ended-" + NAMES.incrementAndGet(), "build");
  }

  private static HttpResponse<String> post(Job j, int exitCode, String reason, String time) {
    return h.post(j.token(), ReportPaths.agentEnded(j.namespace(), j.name()),
        json(new AgentEnded(exitCode, reason, time)));
  }

  @Test
  void theAgentsAccountIsRecordedOnceOnOneLineWithControlCharactersEscaped() {
    Job j = job();
    String reason = "the report API refused a report: /v1/jobs/ci/x/steps/0/output answered 409 conflict\n\u001b[2Jx";

    HttpResponse<String> first = post(j, 4, reason, TIME);

    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.body()).contains("applied");
    NixekAgentEnded recorded = h.job(j).getStatus().agentEnded;
    assertThat(recorded.exitCode).isEqualTo(4);
    assertThat(recorded.time).isEqualTo(TIME);
    assertThat(recorded.reason).isEqualTo(
        "the report API refused a report: /v1/jobs/ci/x/steps/0/output answered 409 conflict\\x0a\\x1b[2Jx");
    // the operator's fields and the steps are not the report's business
    assertThat(h.job(j).getStatus().instanceId).isEqualTo("i-0123456789abcdef0");
    assertThat(h.job(j).getStatus().steps).isNull();

    HttpResponse<String> replay = post(j, 4, reason, TIME);
    assertThat(replay.statusCode()).isEqualTo(200);
    assertThat(replay.body()).contains("duplicate");

    String before = h.snapshot(j);
    HttpResponse<String> other = post(j, 4, "another story", TIME);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(409);
    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  @Test
  void aLongReasonIsCutNotRefused() {
    Job j = job();

    HttpResponse<String> r = post(j, 4, "x".repeat(5000), TIME);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String reason = h.job(j).getStatus().agentEnded.reason;
    assertThat(reason).hasSize(AgentEnded.MAX_REASON).endsWith("...");
  }

  @Test
  void reportsThatCannotBeRightAre422AndChangeNothing() {
    Job j = job();
    String before = h.snapshot(j);

    assertThat(post(j, 0, "fine", TIME).statusCode()).isEqualTo(422);
    assertThat(post(j, 256, "fine", TIME).statusCode()).isEqualTo(422);
    assertThat(post(j, 4, " ", TIME).statusCode()).isEqualTo(422);
    assertThat(post(j, 4, null, TIME).statusCode()).isEqualTo(422);
    assertThat(post(j, 4, "fine", "yesterday").statusCode()).isEqualTo(422);
    assertThat(post(j, 4, "fine", null).statusCode()).isEqualTo(422);

    assertThat(h.snapshot(j)).isEqualTo(before);
  }

  @Test
  void aFinishedJobsTokenIsRefusedAndAnotherJobsTokenIsForbidden() {
    Job j = job();
    Job other = job();
    h.finishJob(j, "False", "StepFailed");
    String before = h.snapshot(j);

    HttpResponse<String> late = post(j, 4, "too late", TIME);
    assertThat(late.statusCode()).as(late.body()).isEqualTo(401);
    HttpResponse<String> foreign = h.post(other.token(), ReportPaths.agentEnded(j.namespace(), j.name()),
        json(new AgentEnded(4, "not mine", TIME)));
    assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);

    assertThat(h.snapshot(j)).isEqualTo(before);
  }
}
