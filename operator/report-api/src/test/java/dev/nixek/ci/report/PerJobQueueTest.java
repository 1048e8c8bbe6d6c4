package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PerJobQueueTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void tasksOfOneKeyRunOneAtATimeInSubmissionOrder() throws Exception {
    PerJobQueue queue = new PerJobQueue();
    Context ctx = vertx.getOrCreateContext();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    List<Integer> order = new ArrayList<>();
    List<Future<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      int n = i;
      results.add(queue.submit(ctx, "ns/job", () -> {
        maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        Thread.sleep(2);
        synchronized (order) {
          order.add(n);
        }
        running.decrementAndGet();
        if (n == 3) {
          throw new IllegalStateException("a failed task does not stop the queue");
        }
        return n;
      }));
    }
    Future.join(results).toCompletionStage().toCompletableFuture().handle((v, e) -> null).get(10, TimeUnit.SECONDS);

    assertThat(maxRunning).hasValue(1);
    assertThat(order).hasSize(30).isSorted();
    assertThat(results.get(3).failed()).isTrue();
    assertThat(results.get(29).result()).isEqualTo(29);
    assertThat(queue.activeKeys()).isZero();
  }

  @Test
  void aBlockedJobDoesNotHoldUpAnother() throws Exception {
    PerJobQueue queue = new PerJobQueue();
    Context ctx = vertx.getOrCreateContext();
    CountDownLatch release = new CountDownLatch(1);
    Future<String> slow = queue.submit(ctx, "ns/slow", () -> {
      release.await(10, TimeUnit.SECONDS);
      return "slow";
    });
    Future<String> behindSlow = queue.submit(ctx, "ns/slow", () -> "behind");
    Future<String> other = queue.submit(ctx, "ns/other", () -> "other");

    assertThat(other.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo("other");
    assertThat(slow.isComplete()).isFalse();
    assertThat(behindSlow.isComplete()).isFalse();
    release.countDown();
    assertThat(behindSlow.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo("behind");
  }

  @Test
  void oneJobMayQueueOnlyItsLimitAndTheNextGets429WithRetryAfter() throws Exception {
    PerJobQueue queue = new PerJobQueue(3);
    Context ctx = vertx.getOrCreateContext();
    CountDownLatch release = new CountDownLatch(1);
    List<Future<String>> admitted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      admitted.add(queue.submit(ctx, "ns/busy", () -> {
        release.await(10, TimeUnit.SECONDS);
        return "done";
      }));
    }
    Future<String> over = queue.submit(ctx, "ns/busy", () -> "never");
    assertThat(over.failed()).isTrue();
    assertThat(over.cause()).isInstanceOfSatisfying(ApiError.class, e -> {
      assertThat(e.status()).isEqualTo(429);
      assertThat(e.retryAfterSeconds()).isPositive();
    });
    Future<String> otherJob = queue.submit(ctx, "ns/calm", () -> "other");
    assertThat(otherJob.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo("other");
    release.countDown();
    Future.join(admitted).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    // the queue drained: the job may send again
    assertThat(queue.submit(ctx, "ns/busy", () -> "again").toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS)).isEqualTo("again");
    assertThat(queue.activeKeys()).isZero();
  }
}
