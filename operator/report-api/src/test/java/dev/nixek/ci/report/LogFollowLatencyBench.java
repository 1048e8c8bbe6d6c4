package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.api.v1alpha1.NixekStepStatus;
import dev.nixek.ci.cli.LogClient;
import dev.nixek.ci.common.logs.StepLog;
import dev.nixek.ci.testing.kube.KubeApiServer;
import dev.nixek.ci.testing.kube.KubeApiServerExtension;
import dev.nixek.ci.testing.kube.TestNamespace;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Follow latency (bench/log-follow/README.md): the time from a chunk being stored to its last byte reaching a
 * {@code kubectl nixek logs -f} client, through the real report API (TokenReview and SubjectAccessReview on a real
 * kube-apiserver, once) and HTTP. Two cases: the chunk stored by this replica (its ingest wakes the follower) and by
 * another (the follower sees it at its next poll of the store). Prints p50/p99; asserts only that every byte came, in
 * order. Not part of the suite: its name matches no surefire pattern; run it with -Dtest=LogFollowLatencyBench.
 */
@ExtendWith(KubeApiServerExtension.class)
class LogFollowLatencyBench {
  static final int CHUNKS = Integer.getInteger("chunks", 500);
  static final int CHUNK_BYTES = Integer.getInteger("chunkBytes", 1024);
  static final long INTERVAL_MICROS = Long.getLong("intervalMicros", 10_000);

  @BeforeAll
  static void start(KubeApiServer s, TestNamespace namespace) throws Exception {
    LogsEndpointIT.start(s, namespace);
  }

  @AfterAll
  static void stop() throws Exception {
    LogsEndpointIT.stop();
  }

  @Test
  void followLatency() throws Exception {
    // a warm-up round of each (JIT, connections), then each measured twice, alternating
    measure("bench-warm-wake", true);
    measure("bench-warm-poll", false);
    int round = 0;
    for (boolean wake : new boolean[] {true, false, true, false}) {
      long[] latencies = measure("bench-" + (wake ? "wake-" : "poll-") + round++, wake);
      Arrays.sort(latencies);
      System.out.printf("FOLLOW-LATENCY %-34s chunks %d x %d B every %.1f ms: p50 %.2f ms  p99 %.2f ms  max %.2f ms  "
          + "load %s%n", wake ? "stored by this replica (woken)" : "stored by another replica (polled)", CHUNKS,
          CHUNK_BYTES, INTERVAL_MICROS / 1000.0, pct(latencies, 50), pct(latencies, 99),
          latencies[latencies.length - 1] / 1e6, java.nio.file.Files.readString(java.nio.file.Path.of(
              "/proc/loadavg")).trim());
    }
  }

  private static double pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
  }

  private long[] measure(String name, boolean wake) throws Exception {
    NixekJob job = LogsEndpointIT.job(LogsEndpointIT.ns, name);
    LogsEndpointIT.stepState(job, 0, NixekStepStatus.State.Running);
    StepLog log = LogsEndpointIT.log(job, 0);
    long[] storedAt = new long[CHUNKS];
    long[] seenAt = new long[CHUNKS];
    // chunk k ends at byte (k + 1) * CHUNK_BYTES: the first write reaching it is when it was seen
    OutputStream sink = new OutputStream() {
      long received;
      int next;

      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        received += len;
        long now = System.nanoTime();
        while (next < CHUNKS && received >= (long) (next + 1) * CHUNK_BYTES) {
          seenAt[next++] = now;
        }
      }
    };
    String token = LogsEndpointIT.server.serviceAccountToken(LogsEndpointIT.ns, "reader");
    LogClient client = new LogClient(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
        () -> token);
    CompletableFuture<Long> follower = CompletableFuture.supplyAsync(() -> {
      try {
        return client.read(job.getStatus().logs.url, 0, 0, true, sink);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(1000);
    byte[] chunk = ("x".repeat(CHUNK_BYTES - 1) + "\n").getBytes(StandardCharsets.UTF_8);
    long t0 = System.nanoTime();
    for (int k = 0; k < CHUNKS; k++) {
      // open loop: chunk k is due at t0 + k * interval, whatever the follower does
      long due = t0 + k * INTERVAL_MICROS * 1000;
      while (System.nanoTime() < due) {
        LockSupport.parkNanos(due - System.nanoTime());
      }
      storedAt[k] = System.nanoTime();
      LogsEndpointIT.store.append(log, chunk);
      if (wake) {
        LogsEndpointIT.api.logWakeups().changed(log);
      }
    }
    LogsEndpointIT.stepState(job, 0, NixekStepStatus.State.Succeeded);
    assertThat(follower.get(30, TimeUnit.SECONDS)).isEqualTo((long) CHUNKS * CHUNK_BYTES);
    long[] latencies = new long[CHUNKS];
    for (int k = 0; k < CHUNKS; k++) {
      latencies[k] = Math.max(0, seenAt[k] - storedAt[k]);
    }
    return latencies;
  }
}
