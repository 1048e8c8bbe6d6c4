package dev.nixek.ci.operator.logs;

import dev.nixek.ci.api.v1alpha1.NixekJob;
import dev.nixek.ci.common.logs.LogStore;
import dev.nixek.ci.common.logs.LogStore.StoredJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes step logs nobody can read any more: those of jobs that no longer exist (their uid is gone: deleted while
 * no operator ran, or while the store could not be reached, or written by a late report after the job's finalizer
 * ran), and, when a retention is set, those whose newest object is older than it, job or no job.
 *
 * <p>Lists the store first and the jobs second, straight from the API server: a job's logs are written only while
 * the job exists, so every job in the first list that exists is in the second, and an uid missing from the second is
 * gone for good (uids are never reused). With watched namespaces it touches only those namespaces' logs: another
 * installation sharing the bucket prefix keeps its own.
 */
public final class LogCollector {
  private static final Logger LOG = LoggerFactory.getLogger(LogCollector.class);

  private final KubernetesClient client;
  private final LogStore store;
  private final List<String> namespaces;
  private final Duration retention;
  private final Clock clock;

  /** What one pass deleted, and why. */
  public record Deleted(StoredJob job, String why) {}

  /**
   * @param namespaces the namespaces whose jobs this operator runs; empty: all
   * @param retention logs older than this (by their newest object) go; zero: only those of gone jobs
   */
  public LogCollector(KubernetesClient client, LogStore store, List<String> namespaces, Duration retention,
      Clock clock) {
    this.client = client;
    this.store = store;
    this.namespaces = List.copyOf(namespaces);
    this.retention = retention;
    this.clock = clock;
  }

  /** Collects once; returns what it deleted. A job whose deletion fails is logged and tried again next pass. */
  public List<Deleted> collect() {
    List<StoredJob> stored;
    try {
      stored = store.jobs();
    } catch (IOException e) {
      throw new UncheckedIOException("listing the log store", e);
    }
    stored = stored.stream().filter(s -> namespaces.isEmpty() || namespaces.contains(s.job().namespace())).toList();
    if (stored.isEmpty()) {
      return List.of();
    }
    Set<String> uids = liveUids();
    Instant now = clock.instant();
    List<Deleted> deleted = new ArrayList<>();
    for (StoredJob s : stored) {
      Optional<String> why = decide(s, uids.contains(s.job().jobUid()), now);
      if (why.isEmpty()) {
        continue;
      }
      try {
        store.delete(s.job());
        LOG.info("log collector deleted the logs of job {}/{} (uid {}): {}", s.job().namespace(), s.job().jobName(),
            s.job().jobUid(), why.get());
        deleted.add(new Deleted(s, why.get()));
      } catch (IOException | RuntimeException e) {
        LOG.warn("log collector could not delete the logs of job {}/{} (uid {}): {}", s.job().namespace(),
            s.job().jobName(), s.job().jobUid(), e.toString());
      }
    }
    return deleted;
  }

  /** Why {@code s} must go now; empty when it stays. */
  Optional<String> decide(StoredJob s, boolean jobExists, Instant now) {
    if (!jobExists) {
      return Optional.of("its job is gone");
    }
    if (!retention.isZero() && s.lastWritten() != null && s.lastWritten().plus(retention).isBefore(now)) {
      return Optional.of("last written " + s.lastWritten() + ", more than " + retention.toDays()
          + " days ago (NIXEK_LOG_RETENTION_DAYS)");
    }
    return Optional.empty();
  }

  private Set<String> liveUids() {
    List<NixekJob> jobs = new ArrayList<>();
    if (namespaces.isEmpty()) {
      jobs.addAll(client.resources(NixekJob.class).inAnyNamespace().list().getItems());
    } else {
      for (String ns : namespaces) {
        jobs.addAll(client.resources(NixekJob.class).inNamespace(ns).list().getItems());
      }
    }
    Set<String> uids = new HashSet<>();
    jobs.forEach(j -> uids.add(j.getMetadata().getUid()));
    return uids;
  }
}
