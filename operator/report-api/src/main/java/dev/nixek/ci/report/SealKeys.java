package dev.nixek.ci.report;

import dev.nixek.ci.common.seal.SealKeyStore;
import dev.nixek.ci.common.seal.Sealer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The report API's {@link Sealer}: the seal key Secret the operator creates, read (on a worker, never on the event
 * loop) at start and again every {@link #RETRY_MILLIS} until it exists. Until then {@link #get} is null and what
 * needs it answers 503.
 */
final class SealKeys implements Supplier<Sealer> {
  static final long RETRY_MILLIS = 5_000;
  private static final Logger LOG = LoggerFactory.getLogger(SealKeys.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private volatile Sealer sealer;
  private volatile boolean stopped;
  private boolean told;

  SealKeys(KubernetesClient client, String namespace, String name) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
  }

  /** A fixed sealer (tests, the embedded demo). */
  static Supplier<Sealer> of(Sealer sealer) {
    return () -> sealer;
  }

  void start(Vertx vertx) {
    vertx.executeBlocking(() -> {
      try {
        SealKeyStore.read(client, namespace, name).ifPresent(k -> sealer = new Sealer(k));
      } catch (RuntimeException e) {
        LOG.warn("cannot read the seal key Secret {}/{}: {}", namespace, name, e.toString());
      }
      return null;
    }, false).onComplete(ar -> {
      if (sealer == null && !stopped) {
        if (!told) {
          told = true;
          LOG.info("no seal key in Secret {}/{} yet; webhooks get 503 until the operator creates it", namespace, name);
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
}
