package dev.nixek.ci.operator.cache;

import dev.nixek.ci.common.cache.CachePublisher;
import dev.nixek.ci.operator.events.EventReason;
import dev.nixek.ci.operator.events.EventRecorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Publishes a build's staging bundle to its domain's cache ({@link CachePublisher}: checked, signed with the domain's
 * key, first writer wins), off the reconcile threads — a bundle can take minutes, and the image's import does not
 * wait for it — one bundle at a time. Tried once: whatever the outcome, the staging object is deleted and an Event
 * on the image says what happened. A failure is not retried: the image is good without it, and what was not
 * published is built again by the domain's next build that needs it, which pushes it then.
 */
public final class CachePublishing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CachePublishing.class);
  /** Refusals named in an Event, at most (the rest are counted). */
  static final int NAMED_REFUSALS = 3;

  private final BinaryCache cache;
  private final java.util.function.Supplier<S3Client> s3Client;
  private final EventRecorder events;
  private final Path spool;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "nixek-cache-publish");
    t.setDaemon(true);
    return t;
  });

  /** {@code s3}: the client of the caches' bucket, asked for when a bundle is published. */
  public CachePublishing(BinaryCache cache, java.util.function.Supplier<S3Client> s3, EventRecorder events,
      Path spool) {
    this.cache = cache;
    this.s3Client = s3;
    this.events = events;
    this.spool = spool;
  }

  /** Publishes the bundle at {@code stagingKey} for {@code image}'s domain; the future ends when it is done. */
  public Future<?> publish(HasMetadata image, String domain, String stagingKey) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    executor.execute(() -> {
      try {
        run(image, domain, stagingKey);
      } finally {
        done.complete(null);
      }
    });
    return done;
  }

  private void run(HasMetadata image, String domain, String stagingKey) {
    String who = image.getMetadata().getNamespace() + "/" + image.getMetadata().getName();
    S3Client s3;
    try {
      s3 = s3Client.get();
    } catch (RuntimeException e) {
      LOG.warn("image {}: no S3 client for the binary cache: {}", who, e.toString());
      return;
    }
    try (InputStream in = s3.getObject(r -> r.bucket(cache.bucket()).key(stagingKey))) {
      CachePublisher.Result result = new CachePublisher(s3, cache.bucket(), cache.layout(), spool)
          .publish(domain, cache.keys().keyFor(domain), in);
      StringBuilder message = new StringBuilder("published ").append(result.published().size())
          .append(" store paths to the binary cache of trust domain '").append(domain).append("' (")
          .append(result.alreadyCached().size()).append(" there already");
      if (!result.refused().isEmpty()) {
        message.append(", ").append(result.refused().size()).append(" refused: ")
            .append(String.join("; ", result.refused().subList(0, Math.min(NAMED_REFUSALS, result.refused().size()))));
      }
      message.append(")");
      LOG.info("image {}: {}", who, message);
      events.record(image, EventReason.CachePublished, message.toString());
    } catch (Exception e) {
      LOG.warn("image {}: the build's cache bundle {} was not published (the image is not affected): {}", who,
          stagingKey, e.toString());
      events.record(image, EventReason.CachePublishFailed, "what the build made was not published to the binary "
          + "cache of trust domain '" + domain + "' (the image is not affected; not retried: the domain's next "
          + "build that needs those paths builds and pushes them): " + e.getMessage());
    } finally {
      try {
        s3.deleteObject(r -> r.bucket(cache.bucket()).key(stagingKey));
      } catch (RuntimeException e) {
        LOG.warn("cannot delete the staging bundle s3://{}/{}: {}", cache.bucket(), stagingKey, e.toString());
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
