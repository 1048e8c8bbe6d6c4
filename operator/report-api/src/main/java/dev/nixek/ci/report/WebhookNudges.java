package dev.nixek.ci.report;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes verified deliveries to their repositories' status ({@code status.webhook}) on a thread of its own, after the
 * forge has had its answer: a slow or absent Kubernetes API delays a nudge, never an answer. Only the newest delivery
 * per repository waits (a burst of pushes is one write: the operator lists every head anyway). A failed write is
 * retried with backoff (1 s doubling to 30 s) unless a newer delivery replaced it; a repository that is gone (404) or
 * was re-created (its UID changed: 409/422) drops it. A nudge lost here (the process stops) is repaired by polling.
 */
final class WebhookNudges implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookNudges.class);
  static final long MIN_BACKOFF_MILLIS = 1_000;
  static final long MAX_BACKOFF_MILLIS = 30_000;

  /** One delivery to record. */
  record Nudge(WebhookRepository repo, String deliveryId, String event, String ref, Instant receivedAt) {}

  /** The status write; throws when the API server refuses or cannot be reached. */
  @FunctionalInterface
  interface Writer {
    void write(Nudge nudge);
  }

  private final Writer writer;
  private final Map<String, Nudge> pending = new ConcurrentHashMap<>();
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "nixek-webhook-nudges");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicLong written = new AtomicLong();
  private long backoffMillis = MIN_BACKOFF_MILLIS;

  WebhookNudges(Writer writer) {
    this.writer = writer;
  }

  /** Queues {@code nudge}, replacing an older one of its repository that is still waiting. Never blocks. */
  void offer(Nudge nudge) {
    pending.put(nudge.repo().key(), nudge);
    if (scheduled.compareAndSet(false, true)) {
      thread.execute(this::drain);
    }
  }

  /** Status writes done (for tests and the bench). */
  long written() {
    return written.get();
  }

  /** Nudges waiting (for tests). */
  int pending() {
    return pending.size();
  }

  private void drain() {
    scheduled.set(false);
    List<Nudge> failed = new ArrayList<>();
    for (String key : List.copyOf(pending.keySet())) {
      Nudge n = pending.remove(key);
      if (n == null) {
        continue;
      }
      try {
        writer.write(n);
        written.incrementAndGet();
      } catch (KubernetesClientException e) {
        int code = e.getCode();
        if (code == 404 || code == 409 || code == 422) {
          LOG.info("webhook delivery {} of repository {} not recorded: the repository is gone or was re-created "
              + "(HTTP {})", n.deliveryId(), key, code);
        } else {
          LOG.warn("cannot record webhook delivery {} of repository {} (HTTP {}); retrying: {}", n.deliveryId(), key,
              code, e.getMessage());
          failed.add(n);
        }
      } catch (RuntimeException e) {
        LOG.warn("cannot record webhook delivery {} of repository {}; retrying", n.deliveryId(), key, e);
        failed.add(n);
      }
    }
    if (failed.isEmpty()) {
      backoffMillis = MIN_BACKOFF_MILLIS;
      return;
    }
    for (Nudge n : failed) {
      // a newer delivery that arrived meanwhile wins
      pending.putIfAbsent(n.repo().key(), n);
    }
    long delay = backoffMillis;
    backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
    if (scheduled.compareAndSet(false, true)) {
      thread.schedule(this::drain, delay, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
