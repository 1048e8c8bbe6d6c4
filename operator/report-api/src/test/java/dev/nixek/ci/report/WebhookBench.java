package dev.nixek.ci.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Webhook handler latency under an open-loop rate (bench/webhooks/README.md): RATE signed push deliveries per second
 * for SECONDS seconds, spread over REPOS repositories, each sent at its due time whatever the answers do; latency is
 * the client's, from sending to the whole answer. Prints WEBHOOK-LATENCY lines with the load average. Not a test:
 * the suite does not run *Bench classes. It asserts only that every delivery was accepted and every repository
 * nudged.
 */
class WebhookBench {
  private static final String SECRET = "bench-secret";

  @Test
  void openLoop() throws Exception {
    int rate = Integer.getInteger("rate", 50);
    int seconds = Integer.getInteger("seconds", 30);
    int repos = Integer.getInteger("repos", 10);
    try (WebhookFixture fx = new WebhookFixture(Map.of())) {
      for (int i = 0; i < repos; i++) {
        fx.repository(WebhookFixture.NS, "repo-" + i, SECRET, List.of(), true, false);
      }
      byte[] body = WebhookFixture.resource("push.json");
      // warm-up: class loading and JIT, not measured
      run(fx, body, rate, 5, repos, "warmup-");
      List<Long> micros = run(fx, body, rate, seconds, repos, "d-");
      Collections.sort(micros);
      int n = micros.size();
      String load = Files.readString(Path.of("/proc/loadavg")).strip();
      System.out.printf("WEBHOOK-LATENCY rate=%d/s seconds=%d deliveries=%d repos=%d p50=%.2fms p90=%.2fms "
          + "p99=%.2fms max=%.2fms nudges=%d loadavg=%s%n", rate, seconds, n, repos, pct(micros, 50), pct(micros, 90),
          pct(micros, 99), micros.get(n - 1) / 1000.0, fx.api.webhookNudges().written(), load);
      assertThat(n).isEqualTo(rate * seconds);
    }
  }

  private static double pct(List<Long> sorted, int p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, i)) / 1000.0;
  }

  private static List<Long> run(WebhookFixture fx, byte[] body, int rate, int seconds, int repos, String prefix)
      throws Exception {
    int total = rate * seconds;
    ConcurrentLinkedQueue<Long> micros = new ConcurrentLinkedQueue<>();
    AtomicInteger refused = new AtomicInteger();
    List<CompletableFuture<?>> inFlight = new ArrayList<>();
    long start = System.nanoTime();
    long periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    for (int i = 0; i < total; i++) {
      long due = start + i * periodNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      String id = prefix + i;
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fx.port + "/v1/webhooks/"
          + WebhookFixture.NS + "/repo-" + (i % repos))).timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      WebhookFixture.github("push", id, SECRET, body).forEach(b::header);
      long sent = System.nanoTime();
      inFlight.add(fx.http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).thenAccept(r -> {
        micros.add((System.nanoTime() - sent) / 1000);
        if (r.statusCode() != 202) {
          refused.incrementAndGet();
        }
      }));
    }
    CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertThat(refused.get()).as("deliveries not accepted").isZero();
    return new ArrayList<>(micros);
  }
}
