package dev.nixek.ci.operator.collect;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a collector (the machine collector; the image collectors) every interval while started. With leader election
 * the operator starts it when it becomes leader and stops it when it stops leading, so one runs per cluster;
 * without, it runs from start-up. A run that fails is logged and the next one comes at the next interval.
 */
public final class CollectorLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorLoop.class);

  private final String name;
  private final Runnable collector;
  private final Duration firstRun;
  private final Duration interval;
  private final ScheduledExecutorService executor;
  private ScheduledFuture<?> scheduled;

  /**
   * @param name what the log calls it, e.g. {@code machine collector}
   * @param collector one run; an exception it throws is logged
   * @param firstRun how long after {@link #start} the first run comes
   * @param interval the delay between the end of one run and the start of the next
   */
  public CollectorLoop(String name, Runnable collector, Duration firstRun, Duration interval) {
    this.name = name;
    this.collector = collector;
    this.firstRun = firstRun;
    this.interval = interval;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "nixek-" + name.replace(' ', '-'));
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts collecting; does nothing when already started. */
  public synchronized void start() {
    if (scheduled == null && !executor.isShutdown()) {
      LOG.info("{} started (every {}s)", name, interval.toSeconds());
      scheduled = executor.scheduleWithFixedDelay(this::runOnce, firstRun.toMillis(), interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  /** Stops collecting (a run in progress finishes). */
  public synchronized void stop() {
    if (scheduled != null) {
      scheduled.cancel(false);
      scheduled = null;
      LOG.info("{} stopped", name);
    }
  }

  public synchronized boolean running() {
    return scheduled != null;
  }

  private void runOnce() {
    try {
      collector.run();
    } catch (RuntimeException e) {
      LOG.warn("{} run failed: {}", name, e.toString());
    }
  }

  @Override
  public void close() {
    stop();
    executor.shutdownNow();
  }
}
