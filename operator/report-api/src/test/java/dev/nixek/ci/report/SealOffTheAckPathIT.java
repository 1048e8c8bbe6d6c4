package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.common.logs.StepLog;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Sealing a step's log (compacting its chunks) runs after the answer to {@code finished}, on threads of its own: many
 * steps ending at once, with slow seals, must not hold the workers that acknowledge every other job's reports.
 * (bench/report-load saw 8 s stalls every time its 20 jobs ended a step together, before seals had their own pool.)
 */
class SealOffTheAckPathIT {

  @Test
  void slowSealsOfManyEndedStepsDoNotDelayAnotherJobsReports() throws Exception {
    MemoryLogStore store = new MemoryLogStore();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger sealsStarted = new AtomicInteger();
    store.beforeSeal = () -> {
      sealsStarted.incrementAndGet();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    // four shared workers, and more steps ending than that
    try (Harness h = new Harness(Map.of("NIXEK_REPORT_WORKER_THREADS", "4"), store)) {
      List<Harness.Job> ended = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Harness.Job j = h.createJob(Harness.NS, "ended-" + i, "build");
        h.runStep(j, 0, "build", List.of(("output " + i + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ended.add(j);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (sealsStarted.get() < ReportApi.SEAL_THREADS && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(sealsStarted.get()).as("seals under way (and blocked)").isEqualTo(ReportApi.SEAL_THREADS);

      // another job reports while every seal thread is stuck: each report is answered at once
      Harness.Job other = h.createJob(Harness.NS, "other", "test");
      CompletableFuture<HttpResponse<String>> started = h.postAsync(other.token(), other.path(0, "started"),
          Harness.startedJson("test", "2026-11-25T10:01:00Z"));
      assertThat(started.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      CompletableFuture<HttpResponse<String>> chunk = h.postAsync(other.token(), other.path(0, "output"),
          Harness.chunkJson(0, 0, "hello\n".getBytes(StandardCharsets.UTF_8)));
      assertThat(chunk.get(10, TimeUnit.SECONDS).body()).contains("applied");

      // once the seals may go on, every ended step's log is sealed: none was dropped for waiting
      release.countDown();
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline && !ended.stream().allMatch(j -> sealed(store, j))) {
        Thread.sleep(50);
      }
      assertThat(ended).allMatch(j -> sealed(store, j), "sealed");
      assertThat(sealsStarted.get()).isEqualTo(ended.size());
    } finally {
      release.countDown();
    }
  }

  private static boolean sealed(MemoryLogStore store, Harness.Job j) {
    return store.state(new StepLog(j.namespace(), j.name(), j.uid(), 0)).sealed();
  }
}
