package dev.nixek.ci.operator.forge;

import dev.nixek.ci.operator.forge.ForgeStatusApi.Answer;
import dev.nixek.ci.operator.forge.JobCommitStatus.Desired;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers commit statuses on its own threads, so that a slow or absent forge never holds up a reconcile: per job,
 * only the latest wanted status is kept (a final one submitted while a pending one waits replaces it), and it is
 * retried with capped exponential backoff and jitter until the forge takes it — for as long as it takes when the forge
 * is down (5xx, no answer, rate limits), a few times when the forge refuses it (a 4xx other than those: a bad token
 * or an unknown repository do not fix themselves). Once posted, the {@link Sink} records it (the job's
 * {@code status.forgeStatus}), which is what makes a restarted operator resume: it submits every job whose recorded
 * status is not the one it should show.
 */
public final class ForgeStatusPoster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ForgeStatusPoster.class);
  /** How many refusals (4xx) of one status before it is dropped. */
  static final int MAX_REFUSALS = 5;

  /** A job, by namespace, name and uid (a recreated job of the same name is another job). */
  public record JobKey(String namespace, String name, String uid) {
    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  /** Where statuses go and where they are recorded: the Kubernetes side, a seam for tests. */
  public interface Sink {
    /** The forge, repository, commit and token for the job's status; empty when none can be posted (no token). */
    Optional<ForgeTarget> target(JobKey job, String commit);

    /** The forge accepted {@code status} for the job at {@code postedAt}. */
    void recorded(JobKey job, CommitStatus status, Instant postedAt);
  }

  private static final class Slot {
    Desired latest;
    boolean scheduled;
    int failures;
    int refusals;
  }

  private final ForgeStatusApi api;
  private final Sink sink;
  private final Duration initialDelay;
  private final Duration maxDelay;
  private final ScheduledExecutorService executor;
  private final Map<JobKey, Slot> slots = new HashMap<>();

  public ForgeStatusPoster(ForgeStatusApi api, Sink sink, Duration initialDelay, Duration maxDelay, int threads) {
    this.api = api;
    this.sink = sink;
    this.initialDelay = initialDelay;
    this.maxDelay = maxDelay;
    this.executor = Executors.newScheduledThreadPool(threads, r -> {
      Thread t = new Thread(r, "forge-statuses");
      t.setDaemon(true);
      return t;
    });
  }

  /** The job should show {@code desired}: posted unless it is already on its way. */
  public void submit(JobKey job, Desired desired) {
    synchronized (slots) {
      Slot slot = slots.computeIfAbsent(job, k -> new Slot());
      if (desired.equals(slot.latest)) {
        return;
      }
      slot.latest = desired;
      slot.failures = 0;
      slot.refusals = 0;
      if (!slot.scheduled) {
        slot.scheduled = true;
        executor.execute(() -> deliver(job));
      }
    }
  }

  /** Jobs with a status still to post (for tests and metrics). */
  public int backlog() {
    synchronized (slots) {
      return slots.size();
    }
  }

  /** Forgets a deleted job. */
  public void forget(JobKey job) {
    synchronized (slots) {
      Slot slot = slots.get(job);
      if (slot != null && !slot.scheduled) {
        slots.remove(job);
      }
      if (slot != null) {
        slot.latest = null;
      }
    }
  }

  private void deliver(JobKey job) {
    Desired d;
    synchronized (slots) {
      Slot slot = slots.get(job);
      if (slot == null || slot.latest == null) {
        slots.remove(job);
        return;
      }
      d = slot.latest;
    }
    Duration again;
    try {
      Optional<ForgeTarget> target = sink.target(job, d.commit());
      if (target.isEmpty()) {
        LOG.debug("no commit status for {}: its repository has no token or no forge API", job);
        done(job, d);
        return;
      }
      Answer answer = api.post(target.get(), d.status());
      switch (answer.verdict()) {
        case POSTED -> {
          sink.recorded(job, d.status(), Instant.now());
          LOG.info("commit status {} ({}) posted for {} on {}", d.status().state(), d.status().context(), job,
              d.commit());
          done(job, d);
          return;
        }
        case REFUSED -> {
          int refusals = count(job, true);
          if (refusals >= MAX_REFUSALS) {
            LOG.warn("the forge refused commit status {} for {} {} times ({} {}): giving up", d.status().state(), job,
                refusals, answer.status(), answer.detail());
            done(job, d);
            return;
          }
          LOG.warn("the forge refused commit status {} for {} ({} {}): trying again", d.status().state(), job,
              answer.status(), answer.detail());
          again = delay(refusals);
        }
        default -> {
          int failures = count(job, false);
          if (failures == 1 || failures % 10 == 0) {
            LOG.warn("commit status {} for {} not posted (attempt {}: {} {}): retrying", d.status().state(), job,
                failures, answer.status() == 0 ? "no answer" : answer.status(), answer.detail());
          }
          again = delay(failures);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (RuntimeException e) {
      // the API server (reading the repository, recording the status) or a bug: the status is not lost, try again
      int failures = count(job, false);
      LOG.warn("commit status for {}: {} (attempt {}), retrying", job, e.toString(), failures);
      again = delay(failures);
    }
    synchronized (slots) {
      if (!executor.isShutdown()) {
        executor.schedule(() -> deliver(job), again.toMillis(), TimeUnit.MILLISECONDS);
      }
    }
  }

  /** {@code posted} is done with: the slot goes, unless a newer status was submitted meanwhile. */
  private void done(JobKey job, Desired posted) {
    synchronized (slots) {
      Slot slot = slots.get(job);
      if (slot == null) {
        return;
      }
      if (slot.latest == null || slot.latest.equals(posted)) {
        slots.remove(job);
      } else if (!executor.isShutdown()) {
        executor.execute(() -> deliver(job));
      }
    }
  }

  private int count(JobKey job, boolean refusal) {
    synchronized (slots) {
      Slot slot = slots.get(job);
      if (slot == null) {
        return 1;
      }
      return refusal ? ++slot.refusals : ++slot.failures;
    }
  }

  /** Capped exponential backoff with ±20 % jitter, so that many jobs do not hit a recovering forge at once. */
  Duration delay(int attempt) {
    long base = initialDelay.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, maxDelay.toMillis());
    double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
    return Duration.ofMillis(Math.max(1, (long) (capped * jitter)));
  }

  @Override
  public void close() {
    synchronized (slots) {
      executor.shutdownNow();
    }
  }
}
