package dev.nixek.ci.report;

import dev.nixek.ci.common.seal.SealKeyOptions;
import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report API's one {@link Sealer}, for everything it opens (webhook secrets, a job's secrets): the seal key Secret
 * the operator creates ({@link ReportApiConfig#seal()}), read on a worker, never on the event loop, at start and again
 * every {@link #RETRY_MILLIS} until it exists. Until then {@link #get} is null and what needs it answers 503; a caller
 * already on a worker may ask at once with {@link #getOrRead} (the job secrets endpoint, whose agent should not wait
 * for the next retry when the operator has just made the key).
 */
class SealKeys implements Supplier<Sealer> {
  static final long RETRY_MILLIS = 5_000;
  private static final Logger LOG = LoggerFactory.getLogger(SealKeys.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private volatile Sealer sealer;
  private volatile boolean stopped;
  private boolean told;

  SealKeys(KubernetesClient client, SealKeyOptions options) {
    this.client = client;
    this.namespace = options.namespace();
    this.name = options.secret();
  }

  /** A fixed sealer (tests, the embedded demo): nothing is read. */
  static SealKeys of(Sealer sealer) {
    return of(() -> sealer);
  }

  /** The caller's sealer (null from it: not there yet): no Secret is read. */
  static SealKeys of(Supplier<Sealer> given) {
    return new SealKeys(null, new SealKeyOptions("given", "given")) {
      @Override
      void start(Vertx vertx) {}

      @Override
      public Sealer get() {
        return given.get();
      }

      @Override
      Sealer getOrRead() {
        return given.get();
      }
    };
  }

  void start(Vertx vertx) {
    vertx.executeBlocking(() -> {
      try {
        read();
      } catch (RuntimeException e) {
        LOG.warn("cannot read the seal key Secret {}/{}: {}", namespace, name, e.toString());
      }
      return null;
    }, false).onComplete(ar -> {
      if (sealer == null && !stopped) {
        if (!told) {
          told = true;
          LOG.info("no seal key in Secret {}/{} yet; webhooks and job secrets get 503 until the operator creates it",
              namespace, name);
        }
        vertx.setTimer(RETRY_MILLIS, id -> start(vertx));
      }
    });
  }

  void stop() {
    stopped = true;
  }

  @Override
  public Sealer get() {
    return sealer;
  }

  /** The sealer, reading the Secret now if it is not loaded yet; null if it does not exist. Blocking. */
  Sealer getOrRead() {
    Sealer s = sealer;
    return s != null ? s : read();
  }

  private synchronized Sealer read() {
    if (sealer == null) {
      SealKeyStore.read(client, namespace, name).ifPresent(k -> sealer = new Sealer(k));
    }
    return sealer;
  }
}
