package dev.nixek.ci.operator.image;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the image collectors every interval while started: first the inline-image collector (whose deletions hand
 * AWS resources to the images' cleaner), then the AWS collector. With leader election the operator starts it when it
 * becomes leader and stops it when it stops leading; a run that fails is logged and the next comes on time.
 */
public final class ImageCollectorLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImageCollectorLoop.class);

  private final InlineImageCollector inline;
  private final ImageCollector aws;
  private final Duration interval;
  private final ScheduledExecutorService executor;
  private ScheduledFuture<?> scheduled;

  public ImageCollectorLoop(InlineImageCollector inline, ImageCollector aws, Duration interval) {
    this.inline = inline;
    this.aws = aws;
    this.interval = interval;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "nixek-image-collector");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts collecting after one interval and every interval; does nothing when already started. */
  public synchronized void start() {
    if (scheduled == null && !executor.isShutdown()) {
      LOG.info("image collector started (every {}s)", interval.toSeconds());
      scheduled = executor.scheduleWithFixedDelay(this::runOnce, interval.toMillis(), interval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  public synchronized void stop() {
    if (scheduled != null) {
      scheduled.cancel(false);
      scheduled = null;
      LOG.info("image collector stopped");
    }
  }

  public synchronized boolean running() {
    return scheduled != null;
  }

  /** One run of both collectors (also what tests call). */
  public void runOnce() {
    try {
      inline.collect();
    } catch (RuntimeException e) {
      LOG.warn("inline-image collector run failed: {}", e.toString());
    }
    try {
      aws.collect();
    } catch (RuntimeException e) {
      LOG.warn("image collector run failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    stop();
    executor.shutdownNow();
  }
}
