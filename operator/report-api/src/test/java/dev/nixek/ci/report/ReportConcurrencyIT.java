package dev.nixek.ci.report;

import static dev.nixek.ci.report.Harness.NS;
import static dev.nixek.ci.report.Harness.chunkJson;
import static dev.nixek.ci.report.Harness.finishedJson;
import static dev.nixek.ci.report.Harness.startedJson;
import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus.State;
import dev.nixek.ci.report.Harness.Job;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reports of different jobs run in parallel, reports of one job one at a time: nothing is lost, nothing applied
 * twice, and no status write has to be retried on a 409.
 */
class ReportConcurrencyIT {
  private static final int JOBS = 5;
  private static final int CHUNKS = 8; // + started + finished = 10 reports per job, 50 in all
  private static Harness h;

  @BeforeAll
  static void start() throws Exception {
    // twenty copies of one report at once (below) are more than one job may queue by default
    // no flush during a test, so status writes are the state changes alone
    h = new Harness(Map.of("NIXEK_REPORT_JOB_QUEUE_LIMIT", "64", "NIXEK_REPORT_STATUS_INTERVAL_MILLIS", "60000"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  private static byte[] chunk(int job, int i) {
    return String.format("job %d chunk %d\n", job, i).getBytes(StandardCharsets.UTF_8);
  }

  /** One agent: its job's reports in order, each sent when the previous one was answered. */
  private static CompletableFuture<List<HttpResponse<String>>> agent(Job j, int n) {
    List<String> paths = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    paths.add(j.path(0, "started"));
    bodies.add(startedJson("build", "2026-11-25T10:01:00Z"));
    long offset = 0;
    for (int i = 0; i < CHUNKS; i++) {
      paths.add(j.path(0, "output"));
      bodies.add(chunkJson(i, offset, chunk(n, i)));
      offset += chunk(n, i).length;
    }
    paths.add(j.path(0, "finished"));
    bodies.add(finishedJson(0, "2026-11-25T10:02:00Z", offset));

    List<HttpResponse<String>> answers = new ArrayList<>();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (int i = 0; i < paths.size(); i++) {
      String path = paths.get(i);
      String body = bodies.get(i);
      chain = chain.thenCompose(v -> h.postAsync(j.token(), path, body)).thenAccept(answers::add);
    }
    return chain.thenApply(v -> answers);
  }

  @Test
  void fiftyReportsForFiveJobsLandExactlyOnce() throws Exception {
    List<Job> jobs = new ArrayList<>();
    for (int n = 0; n < JOBS; n++) {
      jobs.add(h.createJob(NS, "c" + n, "build"));
    }
    drainRecordedRequests();

    List<CompletableFuture<List<HttpResponse<String>>>> agents = new ArrayList<>();
    for (int n = 0; n < JOBS; n++) {
      agents.add(agent(jobs.get(n), n));
    }
    CompletableFuture.allOf(agents.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    for (CompletableFuture<List<HttpResponse<String>>> a : agents) {
      assertThat(a.get()).hasSize(CHUNKS + 2).allSatisfy(r -> {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"result\":\"applied\"}");
      });
    }
    for (int n = 0; n < JOBS; n++) {
      NixekStepStatus s = h.job(jobs.get(n)).getStatus().steps.get(0);
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < CHUNKS; i++) {
        out.append(new String(chunk(n, i), StandardCharsets.UTF_8));
      }
      assertThat(s.state).isEqualTo(State.Succeeded);
      assertThat(s.outputChunks).isEqualTo(CHUNKS);
      assertThat(s.outputBytes).isEqualTo(out.length());
      assertThat(s.outputTail).isEqualTo(out.toString());
    }
    // one status write per state change (chunks are stored, their counts written with the step's end or by the
    // flusher, whose interval is longer than this test): no write raced another of its job into a 409 and a retry
    assertThat(drainRecordedRequests().stream().filter(r -> "PATCH".equals(r.getMethod())).count())
        .isEqualTo(JOBS * 2L);
  }

  @Test
  void theSameReportSentTwentyTimesAtOnceIsAppliedOnce() throws Exception {
    Job j = h.createJob(NS, "storm", "build");
    h.ok(j, j.path(0, "started"), startedJson("build", "2026-11-25T10:01:00Z"), "applied");
    String body = chunkJson(0, 0, "once\n".getBytes(StandardCharsets.UTF_8));
    drainRecordedRequests();

    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(h.postAsync(j.token(), j.path(0, "output"), body));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    List<String> results = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().statusCode()).isEqualTo(200);
      results.add(f.get().body());
    }
    assertThat(results).filteredOn(b -> b.contains("applied")).hasSize(1);
    assertThat(results).filteredOn(b -> b.contains("duplicate")).hasSize(19);
    // serialized per job: the 19 replays find the stored chunk instead of racing it into the store
    dev.nixek.ci.common.logs.StepLog log = new dev.nixek.ci.common.logs.StepLog(NS, j.name(), j.uid(), 0);
    assertThat(h.logs.state(log).chunks()).isEqualTo(1L);
    assertThat(h.logs.state(log).bytes()).isEqualTo(5L);
    // and cost no Kubernetes API call: the step was started here, so no read, and status is written by the flusher
    assertThat(drainRecordedRequests()).noneMatch(r -> "PATCH".equals(r.getMethod()) || "GET".equals(r.getMethod())
        && r.getPath().contains("/nixekjobs/" + j.name()));
    h.ok(j, j.path(0, "finished"), Harness.finishedJson(0, "2026-11-25T10:02:00Z", 5), "applied");
    NixekStepStatus s = h.job(j).getStatus().steps.get(0);
    assertThat(s.outputChunks).isEqualTo(1L);
    assertThat(s.outputTail).isEqualTo("once\n");
  }

  private static List<RecordedRequest> drainRecordedRequests() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    for (RecordedRequest r; (r = h.kube.takeRequest(50, TimeUnit.MILLISECONDS)) != null; ) {
      out.add(r);
    }
    return out;
  }
}
