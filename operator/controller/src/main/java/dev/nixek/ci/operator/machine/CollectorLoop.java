package dev.nixek.ci.operator.machine;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link MachineCollector} every interval while started. With leader election the operator starts it when
 * it becomes leader and stops it when it stops leading, so one collector runs per cluster; without, it runs from
 * start-up. A run that fails is logged and the next one comes at the next interval.
 */
public final class CollectorLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CollectorLoop.class);

  private final MachineCollector collector;
  private final Duration interval;
  private final ScheduledExecutorService executor;
  private ScheduledFuture<?> scheduled;

  public CollectorLoop(MachineCollector collector, Duration interval) {
    this.collector = collector;
    this.interval = interval;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "nixek-collector");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts collecting now and every interval; does nothing when already started. */
  public synchronized void start() {
    if (scheduled == null && !executor.isShutdown()) {
      LOG.info("machine collector started (every {}s)", interval.toSeconds());
      scheduled = executor.scheduleWithFixedDelay(this::runOnce, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Stops collecting (a run in progress finishes). */
  public synchronized void stop() {
    if (scheduled != null) {
      scheduled.cancel(false);
      scheduled = null;
      LOG.info("machine collector stopped");
    }
  }

  public synchronized boolean running() {
    return scheduled != null;
  }

  private void runOnce() {
    try {
      int n = collector.collect().size();
      if (n > 0) {
        LOG.info("machine collector terminated {} machine(s)", n);
      }
    } catch (RuntimeException e) {
      LOG.warn("machine collector run failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    stop();
    executor.shutdownNow();
  }
}
