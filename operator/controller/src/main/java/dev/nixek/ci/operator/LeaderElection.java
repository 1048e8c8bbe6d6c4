package dev.nixek.ci.operator;

import dev.nixek.ci.operator.config.LeaderElectionOptions;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JOSDK's leader election on a Lease in the operator namespace: every replica starts its informers (so a standby is
 * ready with warm caches), only the Lease holder processes events. A replica that loses the Lease while running
 * calls {@code onLost} (in production: exit, so a fresh process rejoins the election); losing it because the
 * operator is being stopped is not a loss.
 */
public final class LeaderElection {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);

  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean leading = new AtomicBoolean();

  /**
   * The JOSDK configuration, or empty when leader election is off. {@code whileLeading} starts with the Lease and
   * stops with it (the orphan collector: one per cluster).
   */
  Optional<LeaderElectionConfiguration> configuration(LeaderElectionOptions options, String namespace,
      Runnable onLost, LeaderWork whileLeading) {
    if (!options.enabled()) {
      return Optional.empty();
    }
    LeaderCallbacks callbacks = new LeaderCallbacks(
        () -> {
          leading.set(true);
          LOG.info("leading: this replica reconciles (Lease {}/{})", namespace, options.leaseName());
          whileLeading.start();
        },
        () -> {
          leading.set(false);
          whileLeading.stop();
          if (!stopping.get()) {
            LOG.error("lost the Lease {}/{}: another replica may be reconciling now", namespace, options.leaseName());
            onLost.run();
          }
        },
        leader -> LOG.info("leader is {}", leader));
    // JOSDK's own reaction to a lost Lease is off: exiting from inside a shutdown would hang the JVM
    return Optional.of(new LeaderElectionConfiguration(options.leaseName(), namespace,
        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE, LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
        options.identity().isEmpty() ? null : options.identity(), callbacks, false));
  }

  /** Work that runs only on the replica holding the Lease. */
  interface LeaderWork {
    void start();

    void stop();
  }

  /** Whether this replica holds the Lease now. */
  boolean isLeading() {
    return leading.get();
  }

  /** The operator is being stopped: the Lease it gives up is not lost. */
  void stopping() {
    stopping.set(true);
  }
}
